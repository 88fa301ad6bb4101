//! Devices (`/api/plans/{plan}/devices`): the list, revoking a phone, and signing oneself out.

use super::*;

#[tokio::test]
async fn revoked_and_unknown_tokens_get_401() {
    let app = test_app();
    let world = create_world(&app).await;
    let parent = join(&app, &world, Role::Parent).await;
    let foster = join(&app, &world, Role::FosterParent).await;
    let devices_path = format!("/api/plans/{}/devices", world.plan);

    let reply = app
        .call("GET", &devices_path, Some(&parent.token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let list = reply.json["devices"].as_array().unwrap().clone();
    assert_eq!(list.len(), 3);
    let parent_device = list
        .iter()
        .find(|d| d["member"] == json!(parent.member))
        .unwrap();
    assert_eq!(parent_device["role"], "parent");
    assert_eq!(parent_device["revoked"], false);
    assert!(parent_device["last_seen_at"].is_string(), "{parent_device}");
    let parent_device_id = parent_device["device"].as_str().unwrap().to_owned();

    // Only the worker may revoke.
    let path = format!("{devices_path}/{parent_device_id}");
    let reply = app.call("DELETE", &path, Some(&foster.token), None).await;
    assert_error(&reply, StatusCode::FORBIDDEN, "not_allowed");
    let reply = app
        .call("DELETE", &path, Some(&world.worker.token), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = app
        .call(
            "DELETE",
            &format!("{devices_path}/nope"),
            Some(&world.worker.token),
            None,
        )
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "device_unknown");

    let reply = pull(&app, &parent, 0, 10).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "device_revoked");
    let reply = push(&app, &parent, &[]).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "device_revoked");
    let reply = app
        .call("GET", &devices_path, Some("made-up-token"), None)
        .await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "token_unknown");
    let reply = app.call("GET", &devices_path, None, None).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "token_missing");

    // The list shows the revocation; the others keep working.
    let reply = app
        .call("GET", &devices_path, Some(&foster.token), None)
        .await;
    let revoked = reply.json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == json!(parent_device_id))
        .unwrap()
        .clone();
    assert_eq!(revoked["revoked"], true);
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(pull(&app, &foster, 0, 10).await.status, StatusCode::OK);
}

#[tokio::test]
async fn any_phone_signs_itself_out_but_only_the_worker_signs_out_others() {
    let app = test_app();
    let world = create_world(&app).await;
    let parent = join(&app, &world, Role::Parent).await;
    let foster = join(&app, &world, Role::FosterParent).await;
    let devices_path = format!("/api/plans/{}/devices", world.plan);

    let reply = app
        .call(
            "DELETE",
            &format!("{devices_path}/me"),
            Some(&parent.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.json);
    assert_error(
        &pull(&app, &parent, 0, 10).await,
        StatusCode::UNAUTHORIZED,
        "device_revoked",
    );
    // The foster parent's phone is untouched, and cannot sign out the worker's.
    assert_eq!(pull(&app, &foster, 0, 10).await.status, StatusCode::OK);
    let reply = app
        .call("GET", &devices_path, Some(&foster.token), None)
        .await;
    let list = reply.json["devices"].as_array().unwrap().clone();
    let worker_device = list
        .iter()
        .find(|d| d["member"] == json!(world.worker.member))
        .unwrap();
    let path = format!(
        "{devices_path}/{}",
        worker_device["device"].as_str().unwrap()
    );
    let reply = app.call("DELETE", &path, Some(&foster.token), None).await;
    assert_error(&reply, StatusCode::FORBIDDEN, "not_allowed");
    let revoked: Vec<_> = list
        .iter()
        .filter(|d| d["revoked"] == true)
        .map(|d| d["member"].clone())
        .collect();
    assert_eq!(revoked, [json!(parent.member)]);
}
