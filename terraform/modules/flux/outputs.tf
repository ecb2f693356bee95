output "namespace" {
  description = "Namespace Flux's controllers run in."
  value       = helm_release.flux.namespace
}

output "chart_version" {
  description = "The flux2 chart version installed (its appVersion is the Flux release)."
  value       = helm_release.flux.version
}
