# The Cluster Agent, installed once by the provisioning run. After this, Cogrion never needs the
# Kubernetes API again: the agent calls out to the Portal for instructions (pull only).
#
# The install is install.yaml.tftpl in this folder: the same file the Portal renders for a manual
# `kubectl apply`, and the sandbox applies to its simulated cluster, so the three cannot drift apart
# (docs/adr/0036). This file only renders it and applies each document, in dependency order.
# What the agent may do, and why, is written next to the RBAC in the template.
#
# kubectl_manifest (alekc/kubectl) rather than hashicorp/kubernetes's kubernetes_manifest: the latter
# needs the API server at plan time, and the cluster is created by the same run.

locals {
  # The template's inputs, JSON-encoded so YAML reads every value as a quoted string.
  install_values = {
    tenant_id    = jsonencode(var.tenant_id)
    workspace_id = jsonencode(var.workspace_id)
    image        = jsonencode(var.agent_image)
    portal_url   = jsonencode(var.portal_url)
  }

  # Rendered once without the token: values derived from a sensitive variable cannot key for_each,
  # and nothing but the bootstrap Secret carries it.
  install_documents = [
    for document in split("\n---\n", templatefile("${path.module}/install.yaml.tftpl", merge(local.install_values, { bootstrap_token = jsonencode("") }))) :
    yamldecode(document)
    if length(regexall("(?m)^[a-zA-Z]", document)) > 0
  ]

  # Keyed kind/namespace/name, the way the sandbox names them too.
  install_objects = {
    for object in local.install_documents :
    "${object.kind}/${try(object.metadata.namespace, "")}/${object.metadata.name}" => object
  }

  # The cloud's identity binding (IRSA on AWS, RRSA on AliCloud) is added here, not in the template:
  # the manual install has no cloud role to bind.
  namespaces = {
    for key, object in local.install_objects : key => merge(object, {
      metadata = merge(object.metadata, { labels = merge(object.metadata.labels, var.namespace_labels) })
    }) if object.kind == "Namespace"
  }
  # The cloud role's annotation goes on the service account the agent's pod runs as, not on the support reader it impersonates.
  access = {
    for key, object in local.install_objects : key => (object.kind == "ServiceAccount" && object.metadata.name == local.agent_service_account ? merge(object, {
      metadata = merge(object.metadata, { annotations = var.service_account_annotations })
    }) : object) if !contains(["Namespace", "Secret", "Deployment"], object.kind)
  }
  deployments           = { for key, object in local.install_objects : key => object if object.kind == "Deployment" }
  agent_service_account = one([for object in values(local.deployments) : object.spec.template.spec.serviceAccountName])

  bootstrap_secret = [
    for document in split("\n---\n", templatefile("${path.module}/install.yaml.tftpl", merge(local.install_values, { bootstrap_token = jsonencode(var.bootstrap_token) }))) :
    document if length(regexall("(?m)^kind: Secret$", document)) > 0
  ][0]
}

resource "kubectl_manifest" "namespace" {
  for_each = local.namespaces

  yaml_body         = yamlencode(each.value)
  server_side_apply = true
  field_manager     = "opentofu"
  force_conflicts   = true
}

resource "kubectl_manifest" "access" {
  for_each = local.access

  yaml_body         = yamlencode(each.value)
  server_side_apply = true
  field_manager     = "opentofu"
  force_conflicts   = true

  depends_on = [kubectl_manifest.namespace]
}

resource "kubectl_manifest" "bootstrap_token" {
  yaml_body         = local.bootstrap_secret
  server_side_apply = true
  field_manager     = "opentofu"
  force_conflicts   = true
  sensitive_fields  = ["stringData"]

  lifecycle {
    # The token is single-use: it matters only at the agent's first start. Later runs (updates, drift
    # checks) mint a fresh one (ADR 0048) and must not rewrite the Secret with it.
    ignore_changes = [yaml_body]
  }

  depends_on = [kubectl_manifest.namespace]
}

resource "kubectl_manifest" "agent" {
  for_each = local.deployments

  yaml_body         = yamlencode(each.value)
  server_side_apply = true
  field_manager     = "opentofu"
  force_conflicts   = true
  # Installing is "started", not "healthy": the run must not fail because the Portal is briefly away.
  wait_for_rollout = false
  # The agent upgrades itself by command (it patches this image); a later run must not roll it back.
  ignore_fields = ["spec.template.spec.containers.0.image"]

  depends_on = [kubectl_manifest.access, kubectl_manifest.bootstrap_token]
}
