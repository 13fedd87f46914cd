//! Charts drawn on the server as SVG: no script, nothing to load, readable without colour
//! (each bar has a title with its numbers).

use std::fmt::Write;

/// One bar: what happened in one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bar {
    pub accepted: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// Stacked bars (succeeded, failed, the rest still waiting or running), oldest left;
/// `labels[i]` names bar i in its title.
pub fn stacked_bars(bars: &[Bar], labels: &[String]) -> String {
    const WIDTH: f64 = 720.0;
    const HEIGHT: f64 = 160.0;
    const AXIS: f64 = 18.0;
    let max = bars.iter().map(|b| b.accepted).max().unwrap_or(0).max(1) as f64;
    let slot = WIDTH / bars.len().max(1) as f64;
    let bar_width = (slot * 0.8).max(1.0);
    let plot = HEIGHT - AXIS;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="Events per hour, last 24 hours; highest {max} per hour" xmlns="http://www.w3.org/2000/svg">"#
    );
    let _ = write!(
        svg,
        r#"<line x1="0" y1="{plot}" x2="{WIDTH}" y2="{plot}"/>"#
    );
    for (i, bar) in bars.iter().enumerate() {
        let x = i as f64 * slot + (slot - bar_width) / 2.0;
        let other = bar.accepted.saturating_sub(bar.succeeded + bar.failed);
        let label = labels.get(i).map(String::as_str).unwrap_or("");
        let _ = write!(
            svg,
            "<g><title>{}: {} accepted, {} succeeded, {} failed</title>",
            super::render::html_escape(label),
            bar.accepted,
            bar.succeeded,
            bar.failed
        );
        let mut top = plot;
        for (value, class) in [(bar.succeeded, "ok"), (bar.failed, "bad"), (other, "other")] {
            if value == 0 {
                continue;
            }
            let h = value as f64 / max * (plot - 4.0);
            top -= h;
            let _ = write!(
                svg,
                r#"<rect class="{class}" x="{x:.1}" y="{top:.1}" width="{bar_width:.1}" height="{h:.1}"/>"#
            );
        }
        svg.push_str("</g>");
    }
    let _ = write!(
        svg,
        r#"<text x="0" y="{}">{}</text><text x="{WIDTH}" y="{}" text-anchor="end">{}</text></svg>"#,
        HEIGHT - 4.0,
        super::render::html_escape(labels.first().map(String::as_str).unwrap_or("")),
        HEIGHT - 4.0,
        super::render::html_escape(labels.last().map(String::as_str).unwrap_or("")),
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_highest_and_name_their_numbers() {
        let bars = [
            Bar {
                accepted: 10,
                succeeded: 6,
                failed: 2,
            },
            Bar::default(),
            Bar {
                accepted: 5,
                succeeded: 5,
                failed: 0,
            },
        ];
        let labels: Vec<String> = ["a", "b", "<c>"].iter().map(|s| s.to_string()).collect();
        let svg = stacked_bars(&bars, &labels);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("a: 10 accepted, 6 succeeded, 2 failed"));
        assert!(svg.contains("&lt;c&gt;") && !svg.contains("<c>"));
        assert_eq!(svg.matches("class=\"ok\"").count(), 2);
        assert_eq!(svg.matches("class=\"bad\"").count(), 1);
        assert_eq!(
            svg.matches("class=\"other\"").count(),
            1,
            "2 still running in the first"
        );
    }
}
