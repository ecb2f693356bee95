output "state_bucket" {
  description = "Name of the S3 bucket that holds the workspaces' OpenTofu state."
  value       = module.state_bucket.s3_bucket_id
}

output "state_region" {
  description = "Region of the state bucket and lock table."
  value       = var.region
}

output "lock_table" {
  description = "Name of the DynamoDB table used for state locking."
  value       = aws_dynamodb_table.locks.name
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the state bucket and the lock table."
  value       = aws_kms_key.state.arn
}
