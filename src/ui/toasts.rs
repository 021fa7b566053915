//! Alert toasts: one per alert raised (read from [`AlertRaised`](crate::AlertRaised)
//! messages, so nothing diffs alert lists), never a storm.

use std::time::{Duration, Instant};

use super::state::DashboardUi;
use crate::base::{Alert, Health};

/// A toast on screen.
#[derive(Clone, Debug)]
pub(crate) struct Toast {
    pub(crate) text: String,
    pub(crate) status: Health,
    pub(crate) until: Instant,
}

/// Most toasts on screen at once; more alerts in one refresh collapse into a summary toast.
pub const MAX_TOASTS: usize = 3;
/// How long a toast stays.
pub const TOAST_DURATION: Duration = Duration::from_secs(6);

/// Adds one toast per alert in `raised` (and drops expired ones); a burst beyond [`MAX_TOASTS`]
/// collapses into one summary toast.
pub(crate) fn push_toasts(ui: &mut DashboardUi, raised: &[Alert]) {
    // called every frame: nothing to add or expire is the common case
    if raised.is_empty() && ui.toasts.is_empty() {
        return;
    }
    let now = Instant::now();
    ui.toasts.retain(|t| t.until > now);
    if !ui.show_toasts || raised.is_empty() {
        return;
    }
    let room = MAX_TOASTS.saturating_sub(ui.toasts.len());
    if raised.len() > room {
        let worst = raised
            .iter()
            .map(|a| a.status)
            .max()
            .unwrap_or(Health::Warning);
        ui.toasts.truncate(MAX_TOASTS.saturating_sub(1));
        ui.toasts.push(Toast {
            text: format!(
                "{} new alert{} — open the dashboard (F12)",
                raised.len(),
                if raised.len() == 1 { "" } else { "s" }
            ),
            status: worst,
            until: now + TOAST_DURATION,
        });
    } else {
        ui.toasts.extend(raised.iter().map(|a| Toast {
            text: a.message.clone(),
            status: a.status,
            until: now + TOAST_DURATION,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(metric: &str, raised: f64) -> Alert {
        Alert {
            metric: metric.into(),
            rule: format!("{metric}:above:warning"),
            status: Health::Warning,
            value: 1.0,
            threshold: 0.5,
            raised_unix_s: raised,
            active: true,
            message: format!("{metric} is high"),
        }
    }

    #[test]
    fn one_toast_per_raised_alert_and_never_a_storm() {
        let mut ui = DashboardUi::default();
        push_toasts(&mut ui, &[alert("a", 1.0)]);
        assert_eq!(ui.toasts.len(), 1);
        assert_eq!(ui.toasts[0].text, "a is high");
        // nothing raised since: no second toast
        push_toasts(&mut ui, &[]);
        assert_eq!(ui.toasts.len(), 1);
        // a burst of six new alerts collapses into one summary toast
        let burst: Vec<Alert> = (0..6).map(|i| alert(&format!("m{i}"), 2.0)).collect();
        push_toasts(&mut ui, &burst);
        assert!(ui.toasts.len() <= MAX_TOASTS);
        assert!(ui.toasts.iter().any(|t| t.text.starts_with("6 new alerts")));
        // toasts switched off: nothing
        ui.show_toasts = false;
        ui.toasts.clear();
        push_toasts(&mut ui, &[alert("z", 10.0)]);
        assert!(ui.toasts.is_empty());
    }
}
