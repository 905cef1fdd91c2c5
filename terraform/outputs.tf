output "cluster_name" {
  description = "Name of the GKE cluster."
  value       = google_container_cluster.primary.name
}

output "cluster_location" {
  description = "Region of the GKE cluster."
  value       = google_container_cluster.primary.location
}

output "cluster_endpoint" {
  description = "Public endpoint of the cluster's control plane (reachable from master_authorized_networks only)."
  value       = google_container_cluster.primary.endpoint
  sensitive   = true
}

output "cluster_ca_certificate" {
  description = "Base64 CA certificate of the cluster's control plane."
  value       = google_container_cluster.primary.master_auth[0].cluster_ca_certificate
  sensitive   = true
}

output "get_credentials_command" {
  description = "Command that writes a kubeconfig entry for the cluster."
  value       = "gcloud container clusters get-credentials ${google_container_cluster.primary.name} --region ${google_container_cluster.primary.location} --project ${var.project_id}"
}

output "workload_identity_pool" {
  description = "Workload Identity pool of the cluster (PROJECT.svc.id.goog)."
  value       = google_container_cluster.primary.workload_identity_config[0].workload_pool
}

output "node_service_account_email" {
  description = "Service account of the inference node pool."
  value       = google_service_account.nodes.email
}

output "image_repository" {
  description = "Image name CI pushes to and the gitops overlays use as newName."
  value       = "${google_artifact_registry_repository.images.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}/caption-service"
}

output "jenkins_external_ip" {
  description = "Static external IP of the Jenkins VM (Ansible connects here; the UI is http://IP:8080 from jenkins_admin_cidrs)."
  value       = google_compute_address.jenkins.address
}

output "jenkins_instance_name" {
  description = "Name of the Jenkins VM."
  value       = google_compute_instance.jenkins.name
}

output "jenkins_zone" {
  description = "Zone of the Jenkins VM."
  value       = google_compute_instance.jenkins.zone
}

output "jenkins_service_account_email" {
  description = "Service account of the Jenkins VM (Artifact Registry writer on the image repository only)."
  value       = google_service_account.jenkins.email
}

output "ingress_address" {
  description = "Static address of the ingress controller's load balancer: platform.yaml ingressAddress."
  value       = google_compute_address.ingress.address
}

output "dns_name_servers" {
  description = "Name servers of the platform's Cloud DNS zone: delegate platform.yaml's dnsDomain to them at your registrar."
  value       = google_dns_managed_zone.platform.name_servers
}

output "cert_manager_service_account_email" {
  description = "Google service account cert-manager acts as (gitops/cert-manager/values.yaml)."
  value       = google_service_account.cert_manager.email
}

output "cluster_private_endpoint" {
  description = "Private endpoint of the control plane: the Jenkins Kubernetes cloud's server URL (https://<this>)."
  value       = google_container_cluster.primary.private_cluster_config[0].private_endpoint
  sensitive   = true
}

output "jenkins_internal_ip" {
  description = "Internal address of the Jenkins VM: build agent pods connect to http://<this>:8080/."
  value       = google_compute_instance.jenkins.network_interface[0].network_ip
}
