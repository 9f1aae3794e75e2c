//! Which channels hear about an appliance: every route sharing a tag with it, or the
//! default channels when none does.

use crate::config::NotifyConfig;

/// The channel names for an appliance with `tags`, each once, in configuration order.
pub fn channels_for(config: &NotifyConfig, tags: &[String]) -> Vec<String> {
    let mut channels: Vec<String> = Vec::new();
    let mut matched = false;
    for route in &config.routes {
        if route.tags.iter().any(|t| tags.contains(t)) {
            matched = true;
            for channel in &route.channels {
                if !channels.contains(channel) {
                    channels.push(channel.clone());
                }
            }
        }
    }
    if !matched {
        channels = config.default_channels.clone();
    }
    channels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RouteConfig;

    #[test]
    fn routes_by_tag_with_a_default_for_the_rest() {
        let config = NotifyConfig {
            routes: vec![
                RouteConfig {
                    tags: vec!["prod".into()],
                    channels: vec!["pager".into(), "mail".into()],
                },
                RouteConfig {
                    tags: vec!["amsterdam".into()],
                    channels: vec!["mail".into(), "ams".into()],
                },
            ],
            default_channels: vec!["lab".into()],
            ..NotifyConfig::default()
        };
        let tags = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            channels_for(&config, &tags(&["prod", "amsterdam"])),
            ["pager", "mail", "ams"]
        );
        assert_eq!(channels_for(&config, &tags(&["test"])), ["lab"]);
        assert_eq!(channels_for(&config, &[]), ["lab"]);
    }
}
