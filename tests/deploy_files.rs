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
