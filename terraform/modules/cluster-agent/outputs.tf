output "namespace" {
  description = "Namespace the Cluster Agent runs in."
  value       = kubernetes_namespace_v1.agent.metadata[0].name
}

output "service_account" {
  description = "Name of the agent's Kubernetes service account (bound to a cloud role by annotation)."
  value       = kubernetes_service_account_v1.agent.metadata[0].name
}
