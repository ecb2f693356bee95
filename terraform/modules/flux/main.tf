# Flux's source and helm controllers, the part of Flux catalog apps need: the agent writes a
# HelmRepository and a HelmRelease per app (docs/catalog.md), and these controllers install the chart.
# Installed by the provisioning run before the Cluster Agent, so the agent's first app commands find
# the CRDs and the controllers.
#
# What is installed is chart.json (the fluxcd-community flux2 chart, pinned) with values.yaml. The
# sandbox reads the same two files (Portal.Sandbox/FluxInstall.cs), as it reads the agent's template.
# Upgrading Flux = a new chart version (and its controllers' image tags) in these files, reviewed.

locals {
  chart = jsondecode(file("${path.module}/chart.json"))

  # The Cogrion labels every object of the workspace carries (docs/module-interface.md), on the
  # controllers' pods (the chart's helmController.labels / sourceController.labels).
  labels = {
    "cogrion.io/tenant-id"    = var.tenant_id
    "cogrion.io/workspace-id" = var.workspace_id
  }
}

resource "helm_release" "flux" {
  name             = "flux"
  namespace        = local.chart.namespace
  create_namespace = true
  repository       = local.chart.repository
  chart            = local.chart.chart
  version          = local.chart.version

  values = [
    file("${path.module}/values.yaml"),
    yamlencode({
      helmController   = { labels = local.labels }
      sourceController = { labels = local.labels }
    }),
  ]

  # The run waits until both controllers are available: the agent's first HelmRelease must find them.
  wait    = true
  timeout = 600
  # Helm's own remediation for a failed install or upgrade of Flux itself.
  atomic          = true
  cleanup_on_fail = true
  max_history     = 10
}
