# The remote-state bucket, made once with local state before the main configuration exists
# (the main configuration cannot create the bucket that holds its own state).

terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.14"
    }
  }
}

variable "project_id" {
  type        = string
  description = "GCP project that holds the Terraform state bucket."
}

variable "location" {
  type        = string
  description = "Bucket location (a region, or a multi-region such as EU)."
  default     = "EU"
}

variable "bucket_name" {
  type        = string
  description = "Globally unique name of the state bucket."
}

provider "google" {
  project = var.project_id
}

resource "google_storage_bucket" "tfstate" {
  name                        = var.bucket_name
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Old state versions are only for recovery: keep the last 20.
  lifecycle_rule {
    condition {
      num_newer_versions = 20
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

output "bucket_name" {
  description = "Name of the state bucket, for backend.hcl."
  value       = google_storage_bucket.tfstate.name
}
