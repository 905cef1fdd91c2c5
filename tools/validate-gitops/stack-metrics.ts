// Metrics the dashboard and alerts may query that the caption service does not export:
// they come from the monitoring stack itself (kubelet/cAdvisor, kube-state-metrics,
// Prometheus). Kept explicit so a typo in a stack metric still fails the check.
export const STACK_METRICS: readonly string[] = [
  // cAdvisor via the kubelet ServiceMonitor
  'container_cpu_usage_seconds_total',
  'container_cpu_cfs_throttled_periods_total',
  'container_cpu_cfs_periods_total',
  'container_memory_working_set_bytes',
  // kube-state-metrics
  'kube_pod_status_ready',
  'kube_pod_container_resource_limits',
  'kube_pod_container_resource_requests',
  'kube_pod_container_status_restarts_total',
  'kube_deployment_status_replicas_available',
  'kube_horizontalpodautoscaler_status_current_replicas',
  'kube_horizontalpodautoscaler_spec_max_replicas',
  // Prometheus' own per-target series
  'up',
];
