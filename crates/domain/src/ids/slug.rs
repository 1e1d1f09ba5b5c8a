//! URL slugs and how a product name becomes one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ParseIdError;

/// A URL slug: 1 to 255 characters of `a-z`, `0-9` and single hyphens between them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// The longest slug accepted (the column is `varchar(255)`).
    pub const MAX_LEN: usize = 255;

    /// Validates `s` as a slug.
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        let err = |reason| ParseIdError { kind: "slug", reason };
        if s.is_empty() {
            return Err(err("must not be empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(err("must be at most 255 characters"));
        }
        if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(err("may contain only a-z, 0-9 and '-'"));
        }
        if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return Err(err("hyphens must be single and between letters or digits"));
        }
        Ok(Slug(s.to_owned()))
    }

    /// Derives a slug from a product name, like Laravel's `Str::slug`:
    /// `"Premium Cotton T-Shirt - Black"` → `"premium-cotton-t-shirt-black"`.
    ///
    /// Lower-cases, folds common accented Latin letters to ASCII (`é` → `e`, `ß` → `ss`),
    /// turns runs of spaces, `-` and `_` into one hyphen, drops every other character
    /// (`"Men's"` → `"mens"`) and cuts to 255 characters. Fails if nothing is left.
    pub fn from_name(name: &str) -> Result<Self, ParseIdError> {
        let mut out = String::with_capacity(name.len());
        let mut gap = false;
        let mut buf = [0; 4];
        for ch in name.chars().flat_map(char::to_lowercase) {
            let piece =
                if ch.is_ascii_alphanumeric() { Some(&*ch.encode_utf8(&mut buf)) } else { fold_to_ascii(ch) };
            match piece {
                Some(piece) => {
                    // A separator only ever lands between two kept pieces: no leading hyphen.
                    if gap && !out.is_empty() {
                        out.push('-');
                    }
                    gap = false;
                    out.push_str(piece);
                }
                None if ch.is_whitespace() || ch == '-' || ch == '_' => gap = true,
                None => {}
            }
        }
        // Everything pushed is ASCII, so byte truncation cannot split a character.
        out.truncate(Self::MAX_LEN);
        let trimmed = out.trim_end_matches('-');
        Slug::parse(trimmed)
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The ASCII spelling of a lower-case accented Latin letter, if it has a simple one.
fn fold_to_ascii(ch: char) -> Option<&'static str> {
    Some(match ch {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => "i",
        'ł' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ř' => "r",
        'ś' | 'š' | 'ş' => "s",
        'ß' => "ss",
        'ť' | 'ţ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

text_id_conversions!(Slug);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_rules() {
        for ok in ["a", "premium-cotton-tshirt-black", "x1-2y", &"a".repeat(255)] {
            assert_eq!(Slug::parse(ok).unwrap().to_string(), ok);
        }
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "a b", "é", &"a".repeat(256)] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Slug>("\"Not-A-Slug\"").is_err());
    }

    #[test]
    fn slug_from_name() {
        for (name, slug) in [
            ("Premium Cotton T-Shirt - Black", "premium-cotton-t-shirt-black"),
            ("  Classic   Denim Jeans  ", "classic-denim-jeans"),
            ("Men's Café Crème", "mens-cafe-creme"),
            ("Straße__Œuvre", "strasse-oeuvre"),
            ("A/B 50% off!", "ab-50-off"),
            ("日本 Tea", "tea"),
            ("---x---", "x"),
        ] {
            assert_eq!(Slug::from_name(name).unwrap().as_str(), slug, "{name:?}");
        }
        assert!(Slug::from_name("!!! ---").is_err());
        assert!(Slug::from_name("").is_err());
        let long = Slug::from_name(&format!("{} b", "a".repeat(254))).unwrap();
        assert_eq!(long.as_str(), "a".repeat(254));
    }
}
