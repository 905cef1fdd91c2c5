resource "google_compute_network" "vpc" {
  project                 = var.project_id
  name                    = var.network_name
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"

  depends_on = [google_project_service.apis]
}

resource "google_compute_subnetwork" "gke" {
  project       = var.project_id
  name          = "${var.network_name}-gke"
  region        = var.region
  network       = google_compute_network.vpc.id
  ip_cidr_range = var.gke_subnet_cidr
  # Private nodes have no external IP: they reach Artifact Registry and Google APIs through
  # Private Google Access, everything else (GitHub for Argo CD) through Cloud NAT.
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = "${var.network_name}-pods"
    ip_cidr_range = var.pods_cidr
  }

  secondary_ip_range {
    range_name    = "${var.network_name}-services"
    ip_cidr_range = var.services_cidr
  }

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.2
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_subnetwork" "ci" {
  project                  = var.project_id
  name                     = "${var.network_name}-ci"
  region                   = var.region
  network                  = google_compute_network.vpc.id
  ip_cidr_range            = var.ci_subnet_cidr
  private_ip_google_access = true
}

resource "google_compute_router" "nat" {
  project = var.project_id
  name    = "${var.network_name}-router"
  region  = var.region
  network = google_compute_network.vpc.id
}

resource "google_compute_router_nat" "nat" {
  project                            = var.project_id
  name                               = "${var.network_name}-nat"
  router                             = google_compute_router.nat.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "LIST_OF_SUBNETWORKS"

  subnetwork {
    name                    = google_compute_subnetwork.gke.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

# --- firewall ------------------------------------------------------------------------------
# GKE creates its own rules for control plane -> nodes on 443 and 10250. The only admission
# webhook the platform runs is cert-manager's, which listens on 10250 by default; the F5 NGINX
# Ingress Controller has none (unlike the community ingress-nginx, whose 8443 webhook needed a
# rule of its own). So no extra control-plane rule is needed.

# Jenkins admin ports: only from the named admin ranges.
resource "google_compute_firewall" "jenkins_admin" {
  project     = var.project_id
  name        = "${var.network_name}-jenkins-admin"
  network     = google_compute_network.vpc.id
  description = "SSH and the Jenkins UI from admin CIDRs only."
  direction   = "INGRESS"
  priority    = 1000

  source_ranges = var.jenkins_admin_cidrs
  target_tags   = [local.jenkins_tag]

  allow {
    protocol = "tcp"
    ports    = ["22", "8080"]
  }
}

# Build agent pods (pod range) connect back to the controller over WebSocket on 8080.
resource "google_compute_firewall" "agents_to_jenkins" {
  project     = var.project_id
  name        = "${var.network_name}-agents-to-jenkins"
  network     = google_compute_network.vpc.id
  description = "Jenkins build agent pods to the controller (WebSocket on 8080)."
  direction   = "INGRESS"
  priority    = 1000

  source_ranges = [var.pods_cidr]
  target_tags   = [local.jenkins_tag]

  allow {
    protocol = "tcp"
    ports    = ["8080"]
  }
}

resource "google_compute_firewall" "jenkins_webhooks" {
  count = length(var.jenkins_webhook_cidrs) > 0 ? 1 : 0

  project     = var.project_id
  name        = "${var.network_name}-jenkins-webhooks"
  network     = google_compute_network.vpc.id
  description = "SCM webhooks to Jenkins."
  direction   = "INGRESS"
  priority    = 1000

  source_ranges = var.jenkins_webhook_cidrs
  target_tags   = [local.jenkins_tag]

  allow {
    protocol = "tcp"
    ports    = ["8080"]
  }
}

# Explicit, logged deny for everything else that reaches the VPC from outside, so that a rule
# added by hand elsewhere shows up in the firewall logs rather than silently widening access.
resource "google_compute_firewall" "deny_ingress" {
  project     = var.project_id
  name        = "${var.network_name}-deny-ingress"
  network     = google_compute_network.vpc.id
  description = "Default deny for ingress, lowest priority, logged."
  direction   = "INGRESS"
  priority    = 65534

  source_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}
