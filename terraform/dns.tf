# Public names and certificates. platform.yaml (the one place a fork makes the platform its own)
# names the DNS domain and the hosts; Terraform reads it so the records match the Ingresses.
locals {
  platform = yamldecode(file("${path.module}/../platform.yaml"))
}

# The ingress controller's load balancer address (platform.yaml ingressAddress, set from the
# output ingress_address): reserved here so DNS and certificates survive a re-created Service.
resource "google_compute_address" "ingress" {
  project      = var.project_id
  name         = "${var.cluster_name}-ingress"
  region       = var.region
  address_type = "EXTERNAL"
  network_tier = "PREMIUM"

  depends_on = [google_project_service.apis]
}

resource "google_dns_managed_zone" "platform" {
  project     = var.project_id
  name        = var.dns_zone_name
  dns_name    = "${local.platform.dnsDomain}."
  description = "Caption platform hosts; cert-manager answers Let's Encrypt DNS-01 challenges here."
  labels      = var.labels

  dnssec_config {
    state = "on"
  }

  depends_on = [google_project_service.apis]
}

resource "google_dns_record_set" "hosts" {
  for_each = toset(values(local.platform.hosts))

  project      = var.project_id
  managed_zone = google_dns_managed_zone.platform.name
  name         = "${each.value}."
  type         = "A"
  ttl          = 300
  rrdatas      = [google_compute_address.ingress.address]
}

# cert-manager's identity (Workload Identity: the cert-manager/cert-manager Kubernetes service
# account acts as this one, gitops/cert-manager/values.yaml). DNS-01 needs to write TXT records.
resource "google_service_account" "cert_manager" {
  project      = var.project_id
  account_id   = "cert-manager"
  display_name = "cert-manager DNS-01 solver of ${var.cluster_name}"

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "cert_manager_dns" {
  project = var.project_id
  role    = "roles/dns.admin"
  member  = "serviceAccount:${google_service_account.cert_manager.email}"

  depends_on = [google_project_service.apis]
}

resource "google_service_account_iam_member" "cert_manager_workload_identity" {
  service_account_id = google_service_account.cert_manager.name
  role               = "roles/iam.workloadIdentityUser"
  # The pool exists once the cluster does.
  member = "serviceAccount:${google_container_cluster.primary.workload_identity_config[0].workload_pool}[cert-manager/cert-manager]"
}
