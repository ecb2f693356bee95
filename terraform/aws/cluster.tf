module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "20.37.2"

  cluster_name    = local.name
  cluster_version = var.kubernetes_version

  # Fixed names that start with "cogrion-", so the tenant's role can be scoped to them and a
  # 32-character workspace name stays inside IAM's limits (a name prefix may not exceed 38 characters).
  iam_role_name            = "${local.name}-cluster"
  iam_role_use_name_prefix = false

  vpc_id                   = module.vpc.vpc_id
  subnet_ids               = module.vpc.private_subnets
  control_plane_subnet_ids = module.vpc.private_subnets

  # Nodes and the agent use the private endpoint. The public endpoint exists only for the provisioning
  # runner (installing the agent, later upgrades), and only from the runner's addresses.
  cluster_endpoint_private_access      = true
  cluster_endpoint_public_access       = true
  cluster_endpoint_public_access_cidrs = var.api_allowed_cidrs

  # Access entries only (no aws-auth ConfigMap). The role the run assumes becomes cluster admin
  # through an access entry the tenant can see and remove in the EKS console; nothing else is granted.
  authentication_mode                      = "API"
  enable_cluster_creator_admin_permissions = true

  # Kubernetes Secrets encrypted with a customer-managed KMS key in the tenant's account, rotated yearly.
  create_kms_key                  = true
  enable_kms_key_rotation         = true
  kms_key_deletion_window_in_days = 30
  cluster_encryption_config = {
    resources = ["secrets"]
  }

  # Control plane logs, including the audit log, in the tenant's CloudWatch.
  cluster_enabled_log_types              = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
  cloudwatch_log_group_retention_in_days = 90

  # The OIDC provider behind IRSA (iam.tf).
  enable_irsa = true

  cluster_addons = {
    coredns = {
      most_recent = true
    }
    kube-proxy = {
      most_recent = true
    }
    # Installed before the nodes, with its own IRSA role, so nodes need no CNI permissions.
    vpc-cni = {
      most_recent              = true
      before_compute           = true
      service_account_role_arn = module.vpc_cni_irsa.iam_role_arn
    }
    aws-ebs-csi-driver = {
      most_recent              = true
      service_account_role_arn = module.ebs_csi_irsa.iam_role_arn
    }
  }

  eks_managed_node_group_defaults = {
    ami_type = "AL2023_x86_64_STANDARD"

    # The VPC CNI has its own role (iam.tf).
    iam_role_attach_cni_policy = false

    # Encrypted root volumes (the account's default EBS key unless the tenant set another).
    block_device_mappings = {
      xvda = {
        device_name = "/dev/xvda"
        ebs = {
          volume_size           = 100
          volume_type           = "gp3"
          encrypted             = true
          delete_on_termination = true
        }
      }
    }

    # IMDSv2 only, and a hop limit of 1 so pods cannot borrow the node's role through the metadata service.
    metadata_options = {
      http_endpoint               = "enabled"
      http_tokens                 = "required"
      http_put_response_hop_limit = 1
    }
  }

  eks_managed_node_groups = {
    for name, pool in local.node_pools : name => {
      # Fixed names (no timestamp suffix): a node group name may not exceed 63 characters.
      name                     = "${var.workspace_name}-${name}"
      use_name_prefix          = false
      iam_role_name            = "${local.name}-ng-${name}"
      iam_role_use_name_prefix = false
      instance_types           = [pool.instance_type]
      min_size                 = pool.min_size
      max_size                 = pool.max_size
      # Only the initial size: the module ignores later changes so autoscaling is not undone.
      desired_size = max(pool.min_size, 1)

      labels = {
        "cogrion.io/node-pool" = name
      }
    }
  }

  # Karpenter finds the node security group by this tag.
  node_security_group_tags = var.use_karpenter ? { "karpenter.sh/discovery" = local.name } : {}

  tags = local.tags
}
