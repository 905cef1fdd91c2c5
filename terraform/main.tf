provider "google" {
  project = var.project_id
  region  = var.region
}

locals {
  node_tag    = "${var.cluster_name}-node"
  jenkins_tag = "${var.cluster_name}-jenkins"

  # What the node VMs need and nothing more: ship logs and metrics, pull images.
  node_sa_roles = [
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
  ]
  jenkins_sa_roles = [
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
  ]
}

resource "google_project_service" "apis" {
  for_each = toset([
    "artifactregistry.googleapis.com",
    # Project IAM bindings (google_project_iam_member) go through the Resource Manager API.
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "dns.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
  ])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# --- service accounts (least privilege) ----------------------------------------------------
# Both replace the Compute Engine default account, which has project Editor.

resource "google_service_account" "nodes" {
  project      = var.project_id
  account_id   = "${var.cluster_name}-nodes"
  display_name = "GKE nodes of ${var.cluster_name}"

  # On a new project the IAM API is off until google_project_service enables it.
  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "nodes" {
  for_each = toset(local.node_sa_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.nodes.email}"

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "jenkins" {
  project      = var.project_id
  account_id   = "${var.cluster_name}-jenkins"
  display_name = "Jenkins VM of ${var.cluster_name}"

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "jenkins" {
  for_each = toset(local.jenkins_sa_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.jenkins.email}"

  depends_on = [google_project_service.apis]
}

# --- image registry ------------------------------------------------------------------------

resource "google_artifact_registry_repository" "images" {
  project       = var.project_id
  location      = var.region
  repository_id = var.artifact_registry_repository_id
  description   = "Caption service images, tagged with the git commit they were built from."
  format        = "DOCKER"
  labels        = var.labels

  # A tag, once pushed, can never point at other bytes: what staging ran is what production gets.
  docker_config {
    immutable_tags = true
  }

  depends_on = [google_project_service.apis]
}

# Repository-scoped, not project-wide: Jenkins may push here and nowhere else; nodes may pull.
resource "google_artifact_registry_repository_iam_member" "jenkins_writer" {
  project    = var.project_id
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.jenkins.email}"
}

resource "google_artifact_registry_repository_iam_member" "nodes_reader" {
  project    = var.project_id
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.nodes.email}"
}

# --- GKE -----------------------------------------------------------------------------------

resource "google_container_cluster" "primary" {
  project  = var.project_id
  name     = var.cluster_name
  location = var.region

  network    = google_compute_network.vpc.id
  subnetwork = google_compute_subnetwork.gke.id

  deletion_protection = var.deletion_protection

  # Node pools are managed below; the default one cannot be configured the same way.
  remove_default_node_pool = true
  initial_node_count       = 1

  networking_mode = "VPC_NATIVE"
  ip_allocation_policy {
    cluster_secondary_range_name  = google_compute_subnetwork.gke.secondary_ip_range[0].range_name
    services_secondary_range_name = google_compute_subnetwork.gke.secondary_ip_range[1].range_name
  }

  # Dataplane V2 enforces the NetworkPolicies the gitops manifests ship.
  datapath_provider = "ADVANCED_DATAPATH"

  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = false
    master_ipv4_cidr_block  = var.master_ipv4_cidr_block

    master_global_access_config {
      enabled = false
    }
  }

  master_authorized_networks_config {
    # The Jenkins VM's subnet reaches the private endpoint: the controller starts one agent pod
    # per build in the ci-agents namespace (gitops/ci-agents) through the Kubernetes plugin.
    cidr_blocks {
      cidr_block   = var.ci_subnet_cidr
      display_name = "jenkins-controller"
    }
    dynamic "cidr_blocks" {
      for_each = var.master_authorized_networks
      content {
        cidr_block   = cidr_blocks.value.cidr_block
        display_name = cidr_blocks.value.display_name
      }
    }
  }

  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }

  release_channel {
    channel = var.release_channel
  }

  # Upgrades happen on weekend nights (UTC), not under weekday traffic.
  maintenance_policy {
    recurring_window {
      start_time = "2025-01-04T01:00:00Z"
      end_time   = "2025-01-04T07:00:00Z"
      recurrence = "FREQ=WEEKLY;BYDAY=SA,SU"
    }
  }

  enable_shielded_nodes = true

  addons_config {
    http_load_balancing {
      disabled = false
    }
    horizontal_pod_autoscaling {
      disabled = false
    }
  }

  logging_config {
    enable_components = ["SYSTEM_COMPONENTS", "WORKLOADS"]
  }

  monitoring_config {
    enable_components = ["SYSTEM_COMPONENTS"]
    managed_prometheus {
      enabled = false # kube-prometheus-stack (gitops/monitoring) scrapes the service instead
    }
  }

  resource_labels = var.labels

  depends_on = [google_project_service.apis]
}

resource "google_container_node_pool" "inference" {
  project  = var.project_id
  name     = "inference"
  location = var.region
  cluster  = google_container_cluster.primary.name

  node_locations = var.node_zones

  # Nodes per zone at creation: without it the pool starts empty, and the cluster autoscaler
  # adds nodes only for pods that are already pending, not to reach its minimum.
  initial_node_count = var.node_initial_count_per_zone

  autoscaling {
    total_min_node_count = var.node_min_count
    total_max_node_count = var.node_max_count
    location_policy      = "BALANCED"
  }

  management {
    auto_repair  = true
    auto_upgrade = true
  }

  # One extra node during upgrades, none taken away first: capacity never drops below the
  # PodDisruptionBudget's floor while nodes roll.
  upgrade_settings {
    strategy        = "SURGE"
    max_surge       = 1
    max_unavailable = 0
  }

  node_config {
    machine_type    = var.node_machine_type
    disk_type       = "pd-balanced"
    disk_size_gb    = var.node_disk_size_gb
    image_type      = "COS_CONTAINERD"
    spot            = var.node_spot
    service_account = google_service_account.nodes.email
    # Access is governed by the service account's IAM roles; the scope only has to allow it.
    oauth_scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    tags         = [local.node_tag]
    labels       = merge(var.labels, { workload = "caption-inference" })

    # Pods see the GKE metadata server only: Workload Identity, not the node's identity.
    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }

    metadata = {
      disable-legacy-endpoints = "true"
    }
  }

  lifecycle {
    # The autoscaler owns the live node count.
    ignore_changes = [initial_node_count]
  }
}

# Build agents run here, never beside the service: Jenkins' pods run pull requests' code, so
# they get nodes of their own (tainted, labelled; jenkins/agent-pod.yaml tolerates and selects
# them), Spot VMs, and none at all while no build runs.
resource "google_container_node_pool" "ci" {
  project  = var.project_id
  name     = "ci"
  location = var.region
  cluster  = google_container_cluster.primary.name

  node_locations = [var.jenkins_zone]

  # Starts empty on purpose (minimum 0): the autoscaler adds a node when an agent pod is pending.
  initial_node_count = 0

  autoscaling {
    total_min_node_count = 0
    total_max_node_count = var.ci_max_nodes
    location_policy      = "ANY"
  }

  management {
    auto_repair  = true
    auto_upgrade = true
  }

  node_config {
    machine_type    = var.ci_machine_type
    disk_type       = "pd-balanced"
    disk_size_gb    = 100
    image_type      = "COS_CONTAINERD"
    spot            = true
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    tags            = [local.node_tag]
    labels          = merge(var.labels, { workload = "ci" })

    taint {
      key    = "dedicated"
      value  = "ci"
      effect = "NO_SCHEDULE"
    }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }

    metadata = {
      disable-legacy-endpoints = "true"
    }
  }

  lifecycle {
    ignore_changes = [initial_node_count]
  }
}

# --- Jenkins VM ----------------------------------------------------------------------------

resource "google_compute_address" "jenkins" {
  project      = var.project_id
  name         = "${var.cluster_name}-jenkins"
  region       = var.region
  address_type = "EXTERNAL"
  network_tier = "PREMIUM"

  depends_on = [google_project_service.apis]
}

resource "google_compute_instance" "jenkins" {
  project      = var.project_id
  name         = "${var.cluster_name}-jenkins"
  zone         = var.jenkins_zone
  machine_type = var.jenkins_machine_type
  tags         = [local.jenkins_tag]
  labels       = merge(var.labels, { role = "jenkins" })

  deletion_protection = var.deletion_protection

  boot_disk {
    auto_delete = false # Jenkins home lives here; recreating the VM must not lose it.
    initialize_params {
      image = "debian-cloud/debian-12"
      size  = var.jenkins_disk_size_gb
      type  = "pd-balanced"
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.ci.id
    access_config {
      nat_ip       = google_compute_address.jenkins.address
      network_tier = "PREMIUM"
    }
  }

  service_account {
    email  = google_service_account.jenkins.email
    scopes = ["https://www.googleapis.com/auth/cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  metadata = {
    # SSH through OS Login (IAM-governed), never project-wide keys.
    enable-oslogin         = "TRUE"
    block-project-ssh-keys = "true"
  }

  allow_stopping_for_update = true

  depends_on = [google_project_service.apis]
}
