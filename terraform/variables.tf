variable "project_id" {
  type        = string
  description = "GCP project that hosts the cluster, the Jenkins VM and the image registry."
}

variable "region" {
  type        = string
  description = "Region for the regional cluster, the subnets, the registry and Cloud NAT."
  default     = "europe-west1"
}

variable "node_zones" {
  type        = list(string)
  description = "Zones of the region the node pool spreads over (one node per zone at minimum size)."
  default     = ["europe-west1-b", "europe-west1-c", "europe-west1-d"]
}

variable "labels" {
  type        = map(string)
  description = "Labels added to every resource that supports them."
  default     = { app = "caption-platform", managed-by = "terraform" }
}

# --- network -------------------------------------------------------------------------------

variable "network_name" {
  type        = string
  description = "Name of the VPC made for the platform."
  default     = "caption-platform"
}

variable "gke_subnet_cidr" {
  type        = string
  description = "Primary range of the GKE subnet (node IPs)."
  default     = "10.10.0.0/20"
}

variable "pods_cidr" {
  type        = string
  description = "Secondary range of the GKE subnet for pod IPs (VPC-native)."
  default     = "10.20.0.0/16"
}

variable "services_cidr" {
  type        = string
  description = "Secondary range of the GKE subnet for Service cluster IPs."
  default     = "10.30.0.0/20"
}

variable "ci_subnet_cidr" {
  type        = string
  description = "Range of the subnet holding the Jenkins VM."
  default     = "10.40.0.0/24"
}

variable "master_ipv4_cidr_block" {
  type        = string
  description = "/28 range for the GKE control plane's private endpoint (must not overlap the subnets)."
  default     = "172.16.0.0/28"

  validation {
    condition     = can(cidrnetmask(var.master_ipv4_cidr_block)) && endswith(var.master_ipv4_cidr_block, "/28")
    error_message = "master_ipv4_cidr_block must be a /28 CIDR."
  }
}

variable "dns_zone_name" {
  type        = string
  description = "Name of the Cloud DNS zone Terraform makes for platform.yaml's dnsDomain (delegate the domain to its name servers, output dns_name_servers)."
  default     = "caption-platform"
}

variable "master_authorized_networks" {
  type = list(object({
    cidr_block   = string
    display_name = string
  }))
  description = "CIDRs allowed to reach the cluster's public API endpoint (admins running kubectl). The Jenkins subnet is added by Terraform itself (it starts build agent pods through the private endpoint); deployments stay pull-based (Argo CD)."
  default     = []

  validation {
    condition     = alltrue([for n in var.master_authorized_networks : n.cidr_block != "0.0.0.0/0"])
    error_message = "Do not open the Kubernetes API to 0.0.0.0/0."
  }
}

# --- cluster -------------------------------------------------------------------------------

variable "cluster_name" {
  type        = string
  description = "Name of the GKE cluster."
  default     = "caption-platform"
}

variable "release_channel" {
  type        = string
  description = "GKE release channel; the control plane and nodes follow it for upgrades."
  default     = "REGULAR"

  validation {
    condition     = contains(["RAPID", "REGULAR", "STABLE"], var.release_channel)
    error_message = "release_channel must be RAPID, REGULAR or STABLE."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the cluster and the Jenkins VM; set false only to tear the platform down on purpose."
  default     = true
}

variable "node_machine_type" {
  type        = string
  description = "Machine type of the inference node pool. Compute-optimised: captioning is CPU-bound (ONNX Runtime), about 1-2 vCPU and 1.5 GiB per replica."
  default     = "c2d-standard-4"
}

variable "node_min_count" {
  type        = number
  description = "Minimum node count of the inference pool across all its zones."
  default     = 2

  validation {
    condition     = var.node_min_count >= 1
    error_message = "Keep at least one node."
  }
}

variable "node_initial_count_per_zone" {
  type        = number
  description = "Nodes each zone of the inference pool starts with (the autoscaler then keeps the total between node_min_count and node_max_count)."
  default     = 1

  validation {
    condition     = var.node_initial_count_per_zone >= 1
    error_message = "Start every zone with at least one node, or the pool starts empty."
  }
}

variable "node_max_count" {
  type        = number
  description = "Maximum node count of the inference pool across all its zones (cluster autoscaler ceiling). validate:gitops (check capacity) fails when the HPA maxima of staging and production do not fit in it."
  default     = 8
}

variable "node_disk_size_gb" {
  type        = number
  description = "Boot disk size of each node, in GB (the image with the model is about 1 GB)."
  default     = 50
}

variable "node_spot" {
  type        = bool
  description = "Use Spot VMs for the inference pool (cheaper, can be pre-empted; the PodDisruptionBudget keeps some replicas)."
  default     = false
}

# --- registry ------------------------------------------------------------------------------

variable "artifact_registry_repository_id" {
  type        = string
  description = "Artifact Registry Docker repository for the service images."
  default     = "caption"
}

# --- Jenkins -------------------------------------------------------------------------------

variable "jenkins_zone" {
  type        = string
  description = "Zone of the Jenkins VM."
  default     = "europe-west1-b"
}

variable "jenkins_machine_type" {
  type        = string
  description = "Machine type of the Jenkins VM. It only runs the controller (no executors: builds run as pods on the ci node pool)."
  default     = "e2-standard-2"
}

variable "jenkins_disk_size_gb" {
  type        = number
  description = "Boot disk of the Jenkins VM, in GB (Jenkins home: job history, logs, the controller image)."
  default     = 100
}

variable "ci_machine_type" {
  type        = string
  description = "Machine type of the ci node pool that runs Jenkins' build agent pods (a build needs about 2 vCPU and 6 GiB: tests, the image build)."
  default     = "e2-standard-4"
}

variable "ci_max_nodes" {
  type        = number
  description = "Most nodes the ci pool scales to (each runs one or two concurrent builds)."
  default     = 2
}

variable "jenkins_admin_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach the Jenkins VM's admin ports (SSH 22 and the Jenkins UI 8080). No default: name your office or VPN ranges."

  validation {
    condition     = length(var.jenkins_admin_cidrs) > 0 && alltrue([for c in var.jenkins_admin_cidrs : can(cidrnetmask(c)) && c != "0.0.0.0/0"])
    error_message = "jenkins_admin_cidrs must list at least one CIDR, none of them 0.0.0.0/0."
  }
}

variable "jenkins_webhook_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to send webhooks to Jenkins on 8080 (e.g. GitHub's published hook ranges). Empty: no webhooks, Jenkins scans the repository periodically."
  default     = []

  validation {
    condition     = alltrue([for c in var.jenkins_webhook_cidrs : can(cidrnetmask(c)) && c != "0.0.0.0/0"])
    error_message = "jenkins_webhook_cidrs must be valid CIDRs, none of them 0.0.0.0/0."
  }
}
