-- The support access pages and the offboarding progress page follow their rows through 'tenant_changes'
-- (migration 0045, ADR 0121) instead of a timer or every job in the Portal.
create trigger support_requests_tenant_changes after insert or update or delete on support_requests
    for each row execute function tenant_changes_notify('id');
-- An action belongs to its request: the session page of that request listens to the request's id.
create trigger support_actions_tenant_changes after insert or update or delete on support_actions
    for each row execute function tenant_changes_notify('request_id');
create trigger support_passkeys_tenant_changes after insert or update or delete on support_passkeys
    for each row execute function tenant_changes_notify('tenant_id');
create trigger support_approver_sets_tenant_changes after insert or update or delete on support_approver_sets
    for each row execute function tenant_changes_notify('tenant_id');
create trigger offboardings_tenant_changes after insert or update or delete on offboardings
    for each row execute function tenant_changes_notify('id');
