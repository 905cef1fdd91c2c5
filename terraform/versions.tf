terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.14"
    }
  }

  # State lives in the versioned bucket made by bootstrap/: every apply keeps the previous state
  # as an object version, so a bad apply or a corrupted state can be rolled back.
  # The bucket name is given at init time: terraform init -backend-config=backend.hcl
  backend "gcs" {
    prefix = "caption-platform/infra"
  }
}
