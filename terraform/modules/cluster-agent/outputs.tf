output "namespace" {
  description = "Namespace the Cluster Agent runs in."
  value       = one([for object in values(local.namespaces) : object.metadata.name])
}

output "service_account" {
  description = "Name of the agent's Kubernetes service account (bound to a cloud role by annotation)."
  value       = local.agent_service_account
}
