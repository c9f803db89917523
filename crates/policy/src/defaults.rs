//! Tacker's registered default rules (tacker/policies), by name.

/// Base rules.
pub const BASE: &[(&str, &str)] = &[
    ("context_is_admin", "role:admin"),
    ("admin_or_owner", "is_admin:True or project_id:%(project_id)s"),
    ("admin_only", "is_admin:True"),
    ("shared", "field:vims:shared=True"),
    ("project_member", "role:member and project_id:%(project_id)s"),
    ("project_reader", "role:reader and project_id:%(project_id)s"),
    (
        "project_member_or_admin",
        "rule:project_member or rule:context_is_admin",
    ),
    (
        "project_reader_or_admin",
        "rule:project_reader or rule:context_is_admin",
    ),
    ("default", "rule:project_member_or_admin"),
];

const PKG: &str = "os_nfv_orchestration_api:vnf_packages:";
const LCM_V1: &str = "os_nfv_orchestration_api:vnf_instances:";
const LCM_V2: &str = "os_nfv_orchestration_api_v2:vnf_instances:";
const FM_V1: &str = "os_nfv_orchestration_api_v2:vnf_fault_monitor:";

/// API rules: (prefix, action, rule). VIM actions have no registered rule and fall to `default`.
pub const API: &[(&str, &str, &str)] = &[
    (PKG, "create", "rule:project_member_or_admin"),
    (PKG, "show", "rule:project_reader_or_admin"),
    (PKG, "index", "rule:project_reader_or_admin"),
    (PKG, "delete", "rule:project_member_or_admin"),
    (PKG, "fetch_package_content", "rule:project_reader_or_admin"),
    (PKG, "upload_package_content", "rule:project_member_or_admin"),
    (PKG, "upload_from_uri", "rule:project_member_or_admin"),
    (PKG, "patch", "rule:project_member_or_admin"),
    (PKG, "get_vnf_package_vnfd", "rule:project_reader_or_admin"),
    (PKG, "fetch_artifact", "rule:project_reader_or_admin"),
    (LCM_V1, "api_versions", "@"),
    (LCM_V1, "create", "rule:project_member_or_admin"),
    (LCM_V1, "instantiate", "rule:project_member_or_admin"),
    (LCM_V1, "terminate", "rule:project_member_or_admin"),
    (LCM_V1, "heal", "rule:project_member_or_admin"),
    (LCM_V1, "scale", "rule:project_member_or_admin"),
    (LCM_V1, "delete", "rule:project_member_or_admin"),
    (LCM_V1, "update_vnf", "rule:project_member_or_admin"),
    (LCM_V1, "rollback", "rule:project_member_or_admin"),
    (LCM_V1, "cancel", "rule:project_member_or_admin"),
    (LCM_V1, "fail", "rule:project_member_or_admin"),
    (LCM_V1, "retry", "rule:project_member_or_admin"),
    (LCM_V1, "change_ext_conn", "rule:project_member_or_admin"),
    (LCM_V1, "show", "rule:project_reader_or_admin"),
    (LCM_V1, "index", "rule:project_reader_or_admin"),
    (LCM_V1, "show_lcm_op_occs", "rule:project_reader_or_admin"),
    (LCM_V1, "list_lcm_op_occs", "rule:project_reader_or_admin"),
    (LCM_V2, "api_versions", "@"),
    (LCM_V2, "create", "@"),
    (LCM_V2, "index", "@"),
    (LCM_V2, "show", "@"),
    (LCM_V2, "delete", "@"),
    (LCM_V2, "update", "@"),
    (LCM_V2, "instantiate", "@"),
    (LCM_V2, "terminate", "@"),
    (LCM_V2, "scale", "@"),
    (LCM_V2, "heal", "@"),
    (LCM_V2, "change_ext_conn", "@"),
    (LCM_V2, "change_vnfpkg", "@"),
    (LCM_V2, "subscription_create", "@"),
    (LCM_V2, "subscription_list", "@"),
    (LCM_V2, "subscription_show", "@"),
    (LCM_V2, "subscription_delete", "@"),
    (LCM_V2, "lcm_op_occ_list", "@"),
    (LCM_V2, "lcm_op_occ_show", "@"),
    (LCM_V2, "lcm_op_occ_retry", "@"),
    (LCM_V2, "lcm_op_occ_rollback", "@"),
    (LCM_V2, "lcm_op_occ_fail", "@"),
    (FM_V1, "index", "@"),
    (FM_V1, "show", "@"),
    (FM_V1, "update", "@"),
    (FM_V1, "subscription_create", "@"),
    (FM_V1, "subscription_list", "@"),
    (FM_V1, "subscription_show", "@"),
    (FM_V1, "subscription_delete", "@"),
];
