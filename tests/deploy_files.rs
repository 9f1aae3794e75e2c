//! The configuration files shipped for docker-compose and the simulator example load.

use std::path::Path;

use vbdash::config::Config;
use vbdash::simulator::SimConfig;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn compose_configuration_is_valid() {
    let env = vec![("SIM_PASSWORD".to_owned(), "x".to_owned())];
    let config = Config::load(&repo("deploy/compose/vbdash.toml"), &env).unwrap();
    assert_eq!(config.appliances.len(), 3);

    let sim = SimConfig::from_toml_file(&repo("deploy/compose/sim.toml")).unwrap();
    let simulated: Vec<&str> = sim.appliances.iter().map(|a| a.name.as_str()).collect();
    for appliance in &config.appliances {
        assert!(
            simulated.contains(&appliance.name.as_str()),
            "{}",
            appliance.name
        );
    }
}

#[test]
fn example_simulator_configuration_is_valid() {
    let sim = SimConfig::from_toml_file(&repo("sim.example.toml")).unwrap();
    assert_eq!(sim.appliances.len(), 3);
}

#[test]
fn example_configuration_polls_the_example_simulator() {
    let env = vec![("SIM_PASSWORD".to_owned(), "x".to_owned())];
    let config = Config::load(&repo("vbdash.example.toml"), &env).unwrap();
    let sim = SimConfig::from_toml_file(&repo("sim.example.toml")).unwrap();
    let listen = sim.listen.expect("the example simulator names its address");

    assert_eq!(config.appliances.len(), sim.appliances.len());
    for (appliance, simulated) in config.appliances.iter().zip(&sim.appliances) {
        assert_eq!(appliance.name, simulated.name);
        let expected = format!("http://{listen}/{}", simulated.name);
        assert_eq!(appliance.url.as_str().trim_end_matches('/'), expected);
    }
}

/// The parts of `docker-compose.yml` the checks below read.
#[derive(Debug, serde::Deserialize)]
struct Compose {
    services: std::collections::BTreeMap<String, Service>,
    #[serde(default)]
    volumes: std::collections::BTreeMap<String, Option<serde_yaml_ng::Value>>,
}

#[derive(Debug, serde::Deserialize)]
struct Service {
    build: Option<String>,
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    environment: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    ports: Vec<String>,
    #[serde(default)]
    volumes: Vec<String>,
}

impl Service {
    /// The value after `flag` in the command.
    fn argument(&self, flag: &str) -> &str {
        let at = self.command.iter().position(|a| a == flag).unwrap();
        &self.command[at + 1]
    }

    /// The host side of the mount whose container side is `target`.
    fn mounted_at(&self, target: &str) -> &str {
        self.volumes
            .iter()
            .find_map(|v| {
                let mut parts = v.split(':');
                let source = parts.next()?;
                (parts.next()? == target).then_some(source)
            })
            .unwrap_or_else(|| panic!("nothing is mounted at {target}"))
    }
}

fn compose() -> Compose {
    let text = std::fs::read_to_string(repo("docker-compose.yml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

#[test]
fn compose_file_names_files_and_volumes_that_exist() {
    let compose = compose();
    let names: Vec<&str> = compose.services.keys().map(String::as_str).collect();
    assert_eq!(names, ["simulator", "vbdash"]);

    for (name, service) in &compose.services {
        assert_eq!(service.build.as_deref(), Some("."), "{name}");
        for volume in &service.volumes {
            let source = volume.split(':').next().unwrap();
            if let Some(file) = source.strip_prefix("./") {
                assert!(repo(file).is_file(), "{name} mounts missing {file}");
                assert!(
                    volume.ends_with(":ro"),
                    "{name}: {volume} should be read-only"
                );
            } else {
                assert!(
                    compose.volumes.contains_key(source),
                    "{name} uses undeclared volume {source}"
                );
            }
        }
    }
    assert!(repo("Dockerfile").is_file());
}

#[test]
fn compose_service_starts_with_its_mounted_configuration() {
    let compose = compose();
    let vbdash = &compose.services["vbdash"];
    let simulator = &compose.services["simulator"];
    assert_eq!(vbdash.depends_on, ["simulator"]);

    // The configuration vbdash is told to read is the file mounted there, and it loads
    // with the service's own environment.
    let config_path = vbdash.argument("--config");
    let host_file = vbdash.mounted_at(config_path).trim_start_matches("./");
    let env: Vec<(String, String)> = vbdash
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let config = Config::load(&repo(host_file), &env).unwrap();

    // The database lives in the named volume, which survives the container.
    assert_eq!(vbdash.mounted_at("/var/lib/vbdash"), "vbdash-data");
    assert!(
        config.database.url.contains("/var/lib/vbdash/"),
        "{}",
        config.database.url
    );

    // The port is published on the host's loopback only, and matches where vbdash listens.
    assert_eq!(
        vbdash.ports,
        [format!("127.0.0.1:8080:{}", config.server.listen.port())]
    );

    // Every appliance points at the simulator service on the port it listens on.
    let sim_port = simulator.argument("--listen").rsplit(':').next().unwrap();
    for appliance in &config.appliances {
        assert_eq!(
            appliance.url.host_str(),
            Some("simulator"),
            "{}",
            appliance.name
        );
        assert_eq!(
            appliance.url.port().map(|p| p.to_string()).as_deref(),
            Some(sim_port),
            "{}",
            appliance.name
        );
    }
    let sim_config = simulator.argument("--config");
    assert!(repo(simulator.mounted_at(sim_config).trim_start_matches("./")).is_file());
}

/// `key=value` lines of a systemd unit by section; repeated keys keep every value.
fn unit_sections(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.to_owned(), Vec::new()));
            continue;
        }
        let (key, value) = line.split_once('=').expect(line);
        let (_, entries) = sections.last_mut().expect("a key before any section");
        entries.push((key.to_owned(), value.to_owned()));
    }
    sections
}

#[test]
fn systemd_unit_runs_serve_hardened_with_a_state_directory() {
    let text = std::fs::read_to_string(repo("deploy/systemd/vbdash.service")).unwrap();
    let sections = unit_sections(&text);
    let names: Vec<&str> = sections.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Unit", "Service", "Install"]);

    let service = &sections[1].1;
    let value = |key: &str| -> Vec<&str> {
        service
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(
        value("ExecStart"),
        ["/usr/local/bin/vbdash serve --config /etc/vbdash/vbdash.toml"]
    );
    for (key, want) in [
        ("DynamicUser", "yes"),
        ("StateDirectory", "vbdash"),
        ("WorkingDirectory", "/var/lib/vbdash"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
        ("KillSignal", "SIGTERM"),
        ("Restart", "on-failure"),
    ] {
        assert_eq!(value(key), [want], "{key}");
    }
    assert!(value("SystemCallFilter").contains(&"@system-service"));

    // Keys are spelled the way systemd spells them: CamelCase letters and digits.
    for (_, entries) in &sections {
        for (key, _) in entries {
            assert!(
                key.chars().all(|c| c.is_ascii_alphanumeric())
                    && key.as_bytes()[0].is_ascii_uppercase(),
                "odd key {key:?}"
            );
        }
    }
    assert_eq!(
        sections[2].1,
        [("WantedBy".into(), "multi-user.target".into())]
    );
}
