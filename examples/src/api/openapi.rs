//! The OpenAPI 3.0 document of the management API (the guide's "Preview OpenAPI
//! parameters"), hand-written in `openapi.json` beside this file and served at
//! `/api/openapi.json`. A test checks that every route of the router is in it, and nothing
//! more.

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_and_nothing_else() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("valid JSON");
        let paths = doc["paths"].as_object().expect("paths");
        let routes = crate::api::routes();
        for r in &routes {
            let method = r.method.to_ascii_lowercase();
            assert!(
                paths.get(r.path).and_then(|p| p.get(&method)).is_some(),
                "{} {} is routed but not in openapi.json",
                r.method,
                r.path
            );
        }
        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                if method == "parameters" {
                    continue;
                }
                assert!(
                    routes
                        .iter()
                        .any(|r| r.path == path && r.method.eq_ignore_ascii_case(method)),
                    "{method} {path} is in openapi.json but not routed"
                );
            }
        }
    }
}
