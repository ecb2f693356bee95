module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.21.0"

  name = local.name
  cidr = var.network_cidr
  azs  = local.azs

  private_subnets = local.private_subnets
  public_subnets  = local.public_subnets

  # One NAT gateway per zone: losing a zone must not cut the others off the internet (the agent
  # reaches the Portal through NAT). It costs two more gateways than a single shared one.
  enable_nat_gateway     = true
  single_nat_gateway     = false
  one_nat_gateway_per_az = true

  enable_dns_hostnames = true
  enable_dns_support   = true

  # Nothing launched in a public subnet gets a public address unless it asks for one.
  map_public_ip_on_launch = false

  # Take over the default security group and leave it without rules, so nothing can fall back on it.
  manage_default_security_group  = true
  default_security_group_ingress = []
  default_security_group_egress  = []

  # Flow logs for the tenant's own audit (kept in the tenant's account, 90 days).
  enable_flow_log                                 = true
  create_flow_log_cloudwatch_log_group            = true
  create_flow_log_cloudwatch_iam_role             = true
  flow_log_max_aggregation_interval               = 60
  flow_log_cloudwatch_log_group_retention_in_days = 90

  # Load balancer placement for the AWS Load Balancer Controller and the cloud provider; Karpenter
  # discovers the node subnets by its tag.
  public_subnet_tags = {
    "kubernetes.io/role/elb" = "1"
  }
  private_subnet_tags = merge(
    { "kubernetes.io/role/internal-elb" = "1" },
    var.use_karpenter ? { "karpenter.sh/discovery" = local.name } : {}
  )

  tags = local.tags
}
