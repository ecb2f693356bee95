# Karpenter (use_karpenter = true): the node pools keep running the system workloads and Karpenter
# itself (it must not run on nodes it manages); Karpenter adds and removes on-demand capacity for
# everything else. The eks module's karpenter submodule makes the AWS side (controller role via
# IRSA, node role and its access entry, the interruption queue and its EventBridge rules); the
# controller and a default NodePool/EC2NodeClass are installed with Helm.

locals {
  karpenter_namespace = "kube-system"

  # Upper bound of what Karpenter may add, so a runaway deployment cannot run up the tenant's bill.
  # Raising it is a module change, reviewed like any other.
  karpenter_cpu_limit = 256

  # Two controller replicas only when the pools guarantee two nodes to spread them over.
  karpenter_replicas = sum([for pool in var.node_pools : pool.min_size]) >= 2 ? 2 : 1
}

module "karpenter" {
  count = var.use_karpenter ? 1 : 0

  source  = "terraform-aws-modules/eks/aws//modules/karpenter"
  version = "20.37.2"

  cluster_name = module.eks.cluster_name

  # Permissions for the Karpenter v1 API (the chart below is 1.x).
  enable_v1_permissions = true

  # IRSA, like every other role in the workspace (iam.tf), rather than EKS Pod Identity.
  enable_irsa                     = true
  irsa_oidc_provider_arn          = module.eks.oidc_provider_arn
  irsa_namespace_service_accounts = ["${local.karpenter_namespace}:karpenter"]
  enable_pod_identity             = false
  create_pod_identity_association = false

  iam_role_name            = "${local.name}-karpenter"
  iam_role_use_name_prefix = false

  node_iam_role_name              = "${local.name}-karpenter-node"
  node_iam_role_use_name_prefix   = false
  node_iam_role_attach_cni_policy = false

  queue_name = "${local.name}-karpenter"

  tags = local.tags
}

resource "helm_release" "karpenter" {
  count = var.use_karpenter ? 1 : 0

  name       = "karpenter"
  namespace  = local.karpenter_namespace
  repository = "oci://public.ecr.aws/karpenter"
  chart      = "karpenter"
  version    = "1.5.0"

  values = [yamlencode({
    replicas = local.karpenter_replicas
    settings = {
      clusterName       = module.eks.cluster_name
      clusterEndpoint   = module.eks.cluster_endpoint
      interruptionQueue = module.karpenter[0].queue_name
    }
    serviceAccount = {
      name = "karpenter"
      annotations = {
        "eks.amazonaws.com/role-arn" = module.karpenter[0].iam_role_arn
      }
    }
    # Only on the node pools' nodes, never on capacity Karpenter itself manages.
    affinity = {
      nodeAffinity = {
        requiredDuringSchedulingIgnoredDuringExecution = {
          nodeSelectorTerms = [{
            matchExpressions = [{ key = "cogrion.io/node-pool", operator = "Exists" }]
          }]
        }
      }
    }
  })]
}

resource "helm_release" "karpenter_defaults" {
  count = var.use_karpenter ? 1 : 0

  name      = "karpenter-defaults"
  namespace = local.karpenter_namespace
  chart     = "${path.module}/charts/karpenter-defaults"

  values = [yamlencode({
    clusterName  = module.eks.cluster_name
    nodeRoleName = module.karpenter[0].node_iam_role_name
    cpuLimit     = local.karpenter_cpu_limit
    tags         = local.tags
  })]

  # The NodePool and EC2NodeClass kinds exist once the controller chart has installed its CRDs.
  depends_on = [helm_release.karpenter]
}
