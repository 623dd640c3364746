//! Fuzz target: arbitrary text as every kind of ID the gateway parses: Notion IDs
//! (notion-client, gate-policy), the gateway's own row ids and token hashes (gate-store) and
//! the shape of gateway keys. A parsed Notion ID must be canonical and parse again to itself.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use notion_client::ids::{BlockId, DataSourceId, DatabaseId, PageId};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = PageId::parse(s) {
        let canonical = id.canonical();
        assert_eq!(canonical.len(), 36, "{canonical}");
        assert_eq!(PageId::parse(&canonical).unwrap().canonical(), canonical);
        assert_eq!(PageId::parse(&id.simple()).unwrap().canonical(), canonical);
        assert!(gate_policy::ids_equal(&canonical, &id.simple()));
    }
    let _ = BlockId::parse(s);
    let _ = DatabaseId::parse(s);
    let _ = DataSourceId::parse(s);
    if let Some(n) = gate_policy::normalize_id(s) {
        assert_eq!(gate_policy::normalize_id(&n).as_deref(), Some(n.as_str()));
    }
    let _ = gate_policy::ids_equal(s, s);

    let _ = gate_store::UserId::from_str(s);
    let _ = gate_store::AgentId::from_str(s);
    let _ = gate_store::ConnectionId::from_str(s);
    let _ = gate_store::ApprovalId::from_str(s);
    let _ = gate_store::ApiKeyId::from_str(s);
    if let Ok(h) = gate_store::TokenHash::from_hex(s) {
        assert_eq!(h.as_str(), s);
    }
    if let Some(public) = gate_store::public_id_of(s) {
        assert!(s.starts_with(public));
        assert!(gate_store::key_kind(s).is_some());
    }
});
