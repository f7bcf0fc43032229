//! The interface's languages: French by default, English available. Every
//! string shown lives in `i18n/<lang>.json`; a test checks that both files
//! have the same keys and that every key the templates use exists.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A language of the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// French, the default.
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The language of a code; French for anything unknown.
    pub fn from_code(code: &str) -> Self {
        if code.eq_ignore_ascii_case("en") {
            Self::En
        } else {
            Self::Fr
        }
    }

    /// The language's code (`fr`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    fn table(self) -> &'static HashMap<String, String> {
        static FR: OnceLock<HashMap<String, String>> = OnceLock::new();
        static EN: OnceLock<HashMap<String, String>> = OnceLock::new();
        let (cell, text) = match self {
            Self::Fr => (&FR, include_str!("../i18n/fr.json")),
            Self::En => (&EN, include_str!("../i18n/en.json")),
        };
        cell.get_or_init(|| serde_json::from_str(text).expect("translation files are valid JSON"))
    }
}

/// The strings of one language, as templates use them (`t.s(…)`).
#[derive(Clone, Copy, Debug)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text of `key`; the key itself when missing (a test forbids it).
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        match self.0.table().get(key) {
            Some(text) => text.as_str(),
            None => key,
        }
    }

    /// The text of `key` with `{}` replaced by `value`.
    pub fn f(&self, key: &str, value: impl std::fmt::Display) -> String {
        self.s(key).replacen("{}", &value.to_string(), 1)
    }

    /// The text of `<prefix>.<name>`, for values named by the domain
    /// (modes, purposes, place labels).
    pub fn k(&self, prefix: &str, name: impl std::fmt::Display) -> String {
        let key = format!("{prefix}.{name}");
        self.s(&key).to_owned()
    }

    /// The language's code.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn both_languages_have_the_same_keys() {
        let fr: BTreeSet<_> = Lang::Fr.table().keys().collect();
        let en: BTreeSet<_> = Lang::En.table().keys().collect();
        assert_eq!(
            fr.symmetric_difference(&en).collect::<Vec<_>>(),
            Vec::<&&String>::new()
        );
    }

    #[test]
    fn every_key_used_in_templates_and_code_is_translated() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let mut missing = Vec::new();
        for folder in ["templates", "src"] {
            for entry in std::fs::read_dir(format!("{dir}{folder}")).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                for call in ["t.s(\"", "t.f(\""] {
                    for part in text.split(call).skip(1) {
                        let key = part.split('"').next().unwrap();
                        if !Lang::Fr.table().contains_key(key) {
                            missing.push(key.to_owned());
                        }
                    }
                }
            }
        }
        assert!(missing.is_empty(), "untranslated keys: {missing:?}");
    }
}
