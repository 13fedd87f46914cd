//! `page` / `per_page` as the reference defines them: page from 1, per_page 1–100 (default 20).

use std::collections::HashMap;

use super::error::ApiError;

pub const DEFAULT_PER_PAGE: usize = 20;
pub const MAX_PER_PAGE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: usize,
    pub per_page: usize,
}

impl Page {
    pub fn from_query(q: &HashMap<String, String>) -> Result<Page, ApiError> {
        let page = parse(q, "page", 1, 1, 1_000_000)?;
        let per_page = parse(q, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)?;
        Ok(Page { page, per_page })
    }

    pub fn offset(&self) -> usize {
        (self.page - 1) * self.per_page
    }
}

fn parse(
    q: &HashMap<String, String>,
    name: &str,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                ApiError::field(
                    name,
                    "invalid",
                    format!("The '{name}' parameter must be an integer between {min} and {max}"),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(
            Page::from_query(&q(&[])).unwrap(),
            Page {
                page: 1,
                per_page: 20
            }
        );
        assert!(Page::from_query(&q(&[("per_page", "101")])).is_err());
        assert!(Page::from_query(&q(&[("per_page", "0")])).is_err());
        assert!(Page::from_query(&q(&[("page", "0")])).is_err());
        assert!(Page::from_query(&q(&[("page", "x")])).is_err());
        assert_eq!(
            Page::from_query(&q(&[("page", "3"), ("per_page", "100")]))
                .unwrap()
                .offset(),
            200
        );
    }
}
