//! Onboarding as a durable job, on every database backend: an accepted upload is onboarded
//! even when its server stops (finished before it exits, or taken over by another server's
//! sweep), and never by two servers at once.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha512};
use tacker_server::{Application, BuildOptions};
use tacker_testkit::csar::{create_and_upload, sample_package, upload, wait_onboarding, SAMPLE_VNFD_ID};
use tacker_testkit::{backend_tests, raw, TestApp};

const PACKAGES: &str = "/vnfpkgm/v1/vnf_packages";

async fn info(app: &TestApp, id: &str) -> Value {
    let (status, info) = app
        .send(app.request(Method::GET, &format!("{PACKAGES}/{id}")))
        .await;
    assert_eq!(status, 200, "{info}");
    info
}

async fn create(app: &TestApp) -> String {
    let (status, created) = app
        .send(app.request(Method::POST, PACKAGES).json(&json!({})))
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

/// Another server over the same database and package folder, not serving: the test runs
/// its sweep.
async fn other_server(app: &TestApp) -> Application {
    Application::build(app.config.clone(), BuildOptions::default())
        .await
        .unwrap()
}

/// The holder of the package's onboarding lease, if any.
async fn lease_holder(app: &TestApp, id: &str) -> String {
    let rows = raw::fetch_text(
        &app.config.database_connection,
        &format!("SELECT onboarding_claimed_by FROM vnf_packages WHERE id = '{id}'"),
    )
    .await;
    rows[0][0].clone()
}

/// Whether the package row holds no onboarding lease.
async fn no_lease(app: &TestApp, id: &str) -> bool {
    let rows = raw::fetch_text(
        &app.config.database_connection,
        &format!(
            "SELECT id FROM vnf_packages WHERE id = '{id}' \
             AND onboarding_claimed_by IS NULL AND onboarding_lease_until IS NULL"
        ),
    )
    .await;
    rows.len() == 1
}

async fn sql(app: &TestApp, statement: &str) {
    assert_eq!(
        raw::execute(&app.config.database_connection, statement)
            .await
            .unwrap(),
        1,
        "{statement}"
    );
}

/// The database's clock in SQL, to write a row as a server writes it.
fn database_now(app: &TestApp) -> &'static str {
    let connection = &app.config.database_connection;
    if connection.starts_with("sqlite") {
        "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')"
    } else if connection.starts_with("postgres") {
        "now()"
    } else {
        "UTC_TIMESTAMP(6)"
    }
}

/// What a server that died mid-onboarding leaves behind: the package's zip in place, part
/// of the unpacked folder, and the row PROCESSING under a lease that has run out.
async fn left_by_a_dead_server(app: &TestApp, id: &str, started_at: &str, zip: Option<&[u8]>) {
    let root = &app.config.vnf_package.csar_path;
    if let Some(zip) = zip {
        std::fs::write(root.join(format!("{id}.zip")), zip).unwrap();
    }
    std::fs::create_dir_all(root.join(id).join("Definitions")).unwrap();
    std::fs::write(root.join(id).join("Definitions/half.yaml"), b"tosca_").unwrap();
    sql(
        app,
        &format!(
            "UPDATE vnf_packages SET onboarding_state = 'PROCESSING', onboarding_started_at = {started_at}, \
             onboarding_claimed_by = 'onboarding/of-a-dead-server', \
             onboarding_lease_until = '2000-01-01 00:00:00' WHERE id = '{id}'"
        ),
    )
    .await;
}

backend_tests!(an_onboarding_whose_server_died_is_resumed_at_start_up => an_onboarding_whose_server_died_is_resumed_at_start_up);

/// The next server to start takes the onboarding over at once and onboards the stored zip
/// (not an hour later, handing the package back).
async fn an_onboarding_whose_server_died_is_resumed_at_start_up(app: TestApp) {
    let id = create(&app).await;
    let zip = sample_package();
    left_by_a_dead_server(&app, &id, database_now(&app), Some(&zip)).await;

    let started = Instant::now();
    let _fresh = app.spawn_peer().await;
    let info = wait_onboarding(&app, &id).await;
    assert_eq!(info["onboardingState"], "ONBOARDED", "{info}");
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(info["vnfdId"], SAMPLE_VNFD_ID);
    // The checksum the dead server had not recorded is the zip's.
    assert_eq!(info["checksum"]["algorithm"], "sha512");
    assert_eq!(info["checksum"]["hash"], format!("{:x}", Sha512::digest(&zip)));
    assert!(no_lease(&app, &id).await);
    let unpacked = app.config.vnf_package.csar_path.join(&id);
    assert!(!unpacked.join("Definitions/half.yaml").exists());
    assert_eq!(vnfd_status(&app, &id).await, 200);
}

backend_tests!(an_onboarding_that_cannot_resume_is_handed_back => an_onboarding_that_cannot_resume_is_handed_back);

/// Without its zip, or once `onboarding_timeout` has passed since the upload began (a
/// package that stops every server trying it), a taken-over onboarding goes back to CREATED
/// with the reason and without files; the package can be uploaded again.
async fn an_onboarding_that_cannot_resume_is_handed_back(app: TestApp) {
    let gone = create(&app).await;
    left_by_a_dead_server(&app, &gone, database_now(&app), None).await;
    let old = create(&app).await;
    left_by_a_dead_server(&app, &old, "'2000-01-01 00:00:00'", Some(&sample_package())).await;

    // The server's own start-up sweep may take one of them first: together they take both.
    assert!(app.packages.sweep_once().await.unwrap() <= 2);
    for (id, why) in [
        (&gone, "the uploaded package is gone"),
        (&old, "did not finish within [vnf_package] onboarding_timeout"),
    ] {
        let info = wait_onboarding(&app, id).await;
        assert_eq!(info["onboardingState"], "CREATED", "{info}");
        let detail = info["onboardingFailureDetails"]["detail"].as_str().unwrap();
        assert!(detail.starts_with("onboarding was interrupted"), "{detail}");
        assert!(detail.contains(why), "{detail}");
        assert!(no_lease(&app, id).await);
        let root = &app.config.vnf_package.csar_path;
        assert!(!root.join(id).exists() && !root.join(format!("{id}.zip")).exists());
    }
    assert_eq!(app.packages.sweep_once().await.unwrap(), 0);

    upload(&app, &old, sample_package()).await;
    assert_eq!(wait_onboarding(&app, &old).await["onboardingState"], "ONBOARDED");
}

backend_tests!(a_live_onboarding_is_not_taken_over => a_live_onboarding_is_not_taken_over);

/// An onboarding that runs longer than its lease keeps it by renewing it: another server's
/// sweep leaves it alone, even one whose upload began longer than `onboarding_timeout` ago.
async fn a_live_onboarding_is_not_taken_over(app: TestApp) {
    app.packages.set_onboarding_lease(Duration::from_millis(900));
    let hold = app.packages.hold_onboardings();
    let id = create_and_upload(&app, sample_package()).await;
    assert_eq!(info(&app, &id).await["onboardingState"], "PROCESSING");
    sql(
        &app,
        &format!("UPDATE vnf_packages SET onboarding_started_at = '2000-01-01 00:00:00' WHERE id = '{id}'"),
    )
    .await;
    let holder = lease_holder(&app, &id).await;
    assert!(holder.starts_with("onboarding/"), "{holder}");

    // Twice the lease: only renewals keep it.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let other = other_server(&app).await;
    assert_eq!(other.state().packages.sweep_once().await.unwrap(), 0);
    assert_eq!(info(&app, &id).await["onboardingState"], "PROCESSING");
    assert_eq!(lease_holder(&app, &id).await, holder);

    drop(hold);
    let info = wait_onboarding(&app, &id).await;
    assert_eq!(info["onboardingState"], "ONBOARDED", "{info}");
    assert!(no_lease(&app, &id).await);
}

backend_tests!(shutdown_waits_for_running_onboardings => shutdown_waits_for_running_onboardings);

/// A stopping server (SIGTERM) finishes the onboardings it accepted before it returns.
async fn shutdown_waits_for_running_onboardings(app: TestApp) {
    let server = other_server(&app).await;
    let address = format!("http://{}", server.local_addr().unwrap());
    let hold = server.state().packages.hold_onboardings();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));

    let id = create(&app).await;
    let response = app
        .client
        .put(format!("{address}{PACKAGES}/{id}/package_content"))
        .header("Content-Type", "application/zip")
        .body(sample_package())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !running.is_finished(),
        "the server stopped before the onboarding it accepted ended"
    );
    assert_eq!(info(&app, &id).await["onboardingState"], "PROCESSING");

    drop(hold);
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the server stops once its onboarding ended")
        .unwrap()
        .unwrap();
    let info = info(&app, &id).await;
    assert_eq!(info["onboardingState"], "ONBOARDED", "{info}");
}

backend_tests!(an_onboarding_left_at_shutdown_is_taken_over_at_once => an_onboarding_left_at_shutdown_is_taken_over_at_once);

/// An onboarding still running when the drain period ends gives its lease up: the next
/// sweep of any server (of two racing, exactly one) takes it over without waiting for the
/// lease to run out, and the first onboarding, superseded, changes nothing when it goes on.
async fn an_onboarding_left_at_shutdown_is_taken_over_at_once(app: TestApp) {
    let zip = sample_package();
    let hold = app.packages.hold_onboardings();
    let id = create_and_upload(&app, zip.clone()).await;
    let started = Instant::now();
    app.packages.drain_onboardings(Duration::from_millis(300)).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(no_lease(&app, &id).await);

    let (first, second) = (other_server(&app).await, other_server(&app).await);
    let (a, b) = tokio::join!(
        first.state().packages.sweep_once(),
        second.state().packages.sweep_once()
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "one server takes the onboarding over");
    let info = wait_onboarding(&app, &id).await;
    assert_eq!(info["onboardingState"], "ONBOARDED", "{info}");

    drop(hold);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = self::info(&app, &id).await;
    assert_eq!(after["onboardingState"], "ONBOARDED", "{after}");
    assert_eq!(after["checksum"], info["checksum"]);
    let response = app
        .request(Method::GET, &format!("{PACKAGES}/{id}/package_content"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), zip.as_slice());
    assert_eq!(vnfd_status(&app, &id).await, 200);
}

async fn vnfd_status(app: &TestApp, id: &str) -> u16 {
    app.request(Method::GET, &format!("{PACKAGES}/{id}/vnfd"))
        .header("Accept", "application/zip")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
