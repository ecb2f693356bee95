output "state_bucket" {
  description = "Name of the S3 bucket that holds the workspaces' OpenTofu state."
  value       = module.state_bucket.s3_bucket_id
}

output "state_region" {
  description = "Region of the state bucket."
  value       = var.region
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the state bucket (objects and the .tflock lock files)."
  value       = aws_kms_key.state.arn
}
