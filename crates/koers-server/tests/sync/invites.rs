//! Invites (`/api/plans/{plan}/invites`, `POST /api/invites/accept`): single use, expiry,
//! revocation, who may invite, and the invite link with its QR code.

use super::*;

#[tokio::test]
async fn invites_are_single_use_expire_and_can_be_revoked() {
    let app = test_app();
    let world = create_world(&app).await;
    let parent_member = world.member(Role::Parent);
    let youth_member = world.member(Role::Youth);
    let invites_path = format!("/api/plans/{}/invites", world.plan);

    // Used.
    let code = invite(&app, &world.worker, parent_member, Some(1))
        .await
        .json["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(accept(&app, &code).await.status, StatusCode::CREATED);
    assert_error(&accept(&app, &code).await, StatusCode::GONE, "invite_used");

    // Revoked.
    let reply = invite(&app, &world.worker, youth_member, None).await;
    let (code, id) = (
        reply.json["code"].as_str().unwrap().to_owned(),
        reply.json["invite"].as_str().unwrap().to_owned(),
    );
    let reply = app
        .call(
            "DELETE",
            &format!("{invites_path}/{id}"),
            Some(&world.worker.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_error(
        &accept(&app, &code).await,
        StatusCode::GONE,
        "invite_revoked",
    );
    let reply = app
        .call(
            "DELETE",
            &format!("{invites_path}/nope"),
            Some(&world.worker.token),
            None,
        )
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "invite_unknown");

    // Expired (written straight to the database, dated in the past).
    let expired_code = "expired-invite-code-0123456789";
    let past = koers_database::now() - chrono::Duration::hours(1);
    app.db
        .create_invite(
            &NewInvite {
                invite: koers_database::InviteId::new(),
                code: hash_secret(expired_code),
                plan: world.plan,
                member: youth_member,
                role: Role::Youth,
                expires_at: past,
                created_by: world.worker.member,
            },
            past,
        )
        .await
        .unwrap();
    assert_error(
        &accept(&app, expired_code).await,
        StatusCode::GONE,
        "invite_expired",
    );
    assert_error(
        &accept(&app, "no-such-code").await,
        StatusCode::NOT_FOUND,
        "invite_unknown",
    );

    // The list has no codes, and the statuses.
    let reply = app
        .call("GET", &invites_path, Some(&world.worker.token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let statuses: Vec<&str> = reply.json["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert!(i.get("code").is_none(), "{i}");
            i["status"].as_str().unwrap()
        })
        .collect();
    assert_eq!(statuses.len(), 3);
    for status in ["used", "revoked", "expired"] {
        assert!(statuses.contains(&status), "{statuses:?}");
    }

    // Limits: days, unknown members, and only the worker invites.
    for days in [0, 61] {
        let reply = invite(&app, &world.worker, parent_member, Some(days)).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_days");
    }
    let reply = invite(&app, &world.worker, MemberId(new_id()), None).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "member_unknown");
    let reply = invite(&app, &world.worker, parent_member, Some(60)).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let guardian = join(&app, &world, Role::Guardian).await;
    assert_error(
        &invite(&app, &guardian, parent_member, None).await,
        StatusCode::FORBIDDEN,
        "not_allowed",
    );
    let reply = app
        .call("GET", &invites_path, Some(&guardian.token), None)
        .await;
    assert_error(&reply, StatusCode::FORBIDDEN, "not_allowed");
}

#[tokio::test]
async fn an_invite_with_a_link_base_gets_a_link_and_a_qr_code() {
    let app = test_app();
    let world = create_world(&app).await;
    let member = world.member(Role::Parent);
    let path = format!("/api/plans/{}/invites", world.plan);
    let base = "https://koers.example/uitnodiging#";
    let reply = app
        .call(
            "POST",
            &path,
            Some(&world.worker.token),
            Some(json!({ "member": member, "link_base": base })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let code = reply.json["code"].as_str().unwrap();
    assert_eq!(reply.json["link"], format!("{base}{code}"));
    let svg = reply.json["qr_svg"].as_str().unwrap();
    assert!(
        svg.starts_with("<?xml") || svg.starts_with("<svg"),
        "{}",
        &svg[..svg.len().min(80)]
    );
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("#1b2529"), "dark colour");
    let width: u32 = svg
        .split("width=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|w| w.parse().ok())
        .unwrap();
    assert!(width >= 200, "at least 200 px wide: {width}");
    // The code in the link works.
    let joined = accept(&app, code).await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.json);

    // Without a link base: neither field.
    let reply = invite(&app, &world.worker, member, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert!(reply.json.get("link").is_none() && reply.json.get("qr_svg").is_none());

    // Bad link bases: 400 with a JSON error, and no invite stored.
    let listed = |reply: &Reply| reply.json["invites"].as_array().unwrap().len();
    let before = listed(
        &app.call("GET", &path, Some(&world.worker.token), None)
            .await,
    );
    let too_long = format!("https://koers.example/{}#", "a".repeat(200));
    for bad in [
        "ftp://koers.example/#",
        "koers.example/uitnodiging#",
        "javascript:alert(1)//",
        "https://koers.example/ uitnodiging#",
        "",
        too_long.as_str(),
    ] {
        let reply = app
            .call(
                "POST",
                &path,
                Some(&world.worker.token),
                Some(json!({ "member": member, "link_base": bad })),
            )
            .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_link_base");
    }
    let after = listed(
        &app.call("GET", &path, Some(&world.worker.token), None)
            .await,
    );
    assert_eq!(before, after);
}
