# The module's outputs. terraform/alicloud declares the same names with the same meanings; the Portal
# reads them (Portal/Features/Workspaces/Modules/ModuleOutputs.cs). None is secret.

output "cluster_id" {
  description = "The cluster's cloud identifier: the EKS cluster ARN (AWS) or the ACK cluster id (AliCloud)."
  value       = module.eks.cluster_arn
}

output "cluster_name" {
  description = "The Kubernetes cluster's name in the cloud console."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "HTTPS URL of the cluster's Kubernetes API (public endpoint, reachable only from api_allowed_cidrs)."
  value       = module.eks.cluster_endpoint
}

output "kubernetes_version" {
  description = "The Kubernetes version the cluster runs, as the cloud reports it."
  value       = module.eks.cluster_version
}

output "vpc_id" {
  description = "Id of the workspace's VPC."
  value       = module.vpc.vpc_id
}

output "private_subnet_ids" {
  description = "Ids of the private subnets (AWS) or VSwitches (AliCloud) the nodes and the database use."
  value       = module.vpc.private_subnets
}

output "public_subnet_ids" {
  description = "Ids of the public subnets (AWS) or VSwitches (AliCloud) that hold the NAT gateway and internet-facing load balancers."
  value       = module.vpc.public_subnets
}

output "nat_public_ips" {
  description = "Public IPv4 addresses the workspace's outbound traffic leaves from (e.g. for the tenant's allow-lists)."
  value       = module.vpc.nat_public_ips
}

output "oidc_provider_arn" {
  description = "ARN of the cluster's OIDC identity provider that workload roles trust (IRSA on AWS, RRSA on AliCloud)."
  value       = module.eks.oidc_provider_arn
}

output "agent_namespace" {
  description = "Kubernetes namespace the Cluster Agent runs in."
  value       = module.cluster_agent.namespace
}

output "agent_role_arn" {
  description = "ARN of the cloud role the Cluster Agent's service account assumes (IRSA role on AWS, RAM role on AliCloud)."
  value       = module.agent_irsa.iam_role_arn
}

output "database_endpoint" {
  description = "Host name of the database, or null when the workspace has none."
  value       = local.database_enabled ? module.database[0].db_instance_address : null
}

output "database_port" {
  description = "TCP port of the database, or null when the workspace has none."
  value       = local.database_enabled ? module.database[0].db_instance_port : null
}

output "database_master_secret_ref" {
  description = "Where the database's master credentials are kept, never the credentials themselves: the Secrets Manager secret ARN (AWS), or null (AliCloud, where the agent creates accounts through its RAM role); null without a database."
  value       = local.database_enabled ? module.database[0].db_instance_master_user_secret_arn : null
}
