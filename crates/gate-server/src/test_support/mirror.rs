//! `synced`: a gateway with a mirror, alice's connection synced into it.

use super::{Gateway, GatewayOpts, spawn_gateway_with};

/// Syncs alice's connection into the gateway's mirror.
pub async fn synced(opts: GatewayOpts) -> Gateway {
    let gw = spawn_gateway_with(GatewayOpts {
        mirror: true,
        ..opts
    })
    .await;
    sync_now(&gw).await;
    gw
}

/// Syncs alice's connection into the gateway's mirror now.
pub async fn sync_now(gw: &Gateway) {
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let conn_id = alice.connection_id.unwrap();
    let store = gw
        .gate
        .mirrors()
        .unwrap()
        .open(&conn_id.to_string())
        .unwrap();
    let conn = gw.gate.mirror_connection(conn_id).await.unwrap();
    let report = gate_mirror::sync(&conn, &store, &gate_mirror::SyncOptions::new())
        .await
        .unwrap();
    assert_eq!(report.errors, 0, "{report:?}");
}
