//! Parsing with string scalars rewritten first (`${VAR}` substitution anywhere in a
//! scenario), typed after the rewrite and located in the original text.
//!
//! A plain scalar that is rewritten is re-read as YAML, so `concurrency: ${N:-8}` is the
//! integer 8 and `rate: ${RATE:-50/s}` the string `50/s`; a quoted one stays a string,
//! as the author quoted it. A mistake in a rewritten value is reported at the value's
//! position in the file, with the text as written.

use std::collections::HashSet;
use std::path::Path;

use serde::de::DeserializeOwned;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::parse::{from_value, parse_value};
use crate::{error_at, locate, ConfigError, Value};

/// Decides, for one string scalar at `path` (`phases[0].workload.rate`), its new text:
/// `Ok(None)` keeps it, `Err` is a mistake reported at the value.
pub type Rewrite<'a> = &'a mut dyn FnMut(&str, &str) -> Result<Option<String>, String>;

/// [`crate::from_str`], with every string scalar offered to `rewrite` first.
pub fn from_str_rewritten<T: DeserializeOwned>(
    file: &Path,
    text: &str,
    rewrite: Rewrite,
) -> Result<T, ConfigError> {
    let mut value = parse_value(file, text)?;
    let quoted = quoted_paths(text);
    let mut changed: Vec<(String, String)> = Vec::new();
    walk(&mut value, String::new(), &mut |path, v| {
        let Value::String(s) = v else { return Ok(()) };
        let Some(new) = rewrite(path, s).map_err(|m| at_value(file, text, path, m))? else {
            return Ok(());
        };
        changed.push((path.to_string(), s.clone()));
        *v = if quoted.contains(path) {
            Value::String(new)
        } else {
            match serde_saphyr::from_str::<Value>(&new) {
                Ok(t @ (Value::Bool(_) | Value::U64(_) | Value::I64(_) | Value::F64(_))) => t,
                Ok(Value::String(s)) => Value::String(s),
                // Empty, null, or text that would read as a mapping or list: a string.
                _ => Value::String(new),
            }
        };
        Ok(())
    })?;
    from_value(file, text, value, &changed)
}

/// A mistake in a value: at the value itself (where the `${…}` is written).
pub(crate) fn at_value(file: &Path, text: &str, path: &str, message: String) -> ConfigError {
    match locate(text, path) {
        Some((line, column)) => ConfigError {
            file: file.to_path_buf(),
            line: Some(line),
            column: Some(column),
            path: path.to_string(),
            message,
            snippet: crate::snippet::render(text, Some(line), Some(column), ""),
        },
        None => error_at(file, text, path, message),
    }
}

fn walk(
    v: &mut Value,
    path: String,
    f: &mut dyn FnMut(&str, &mut Value) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    match v {
        Value::Map(m) => {
            for (k, child) in m.iter_mut() {
                let key = k.key_text();
                let p = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                walk(child, p, f)?;
            }
            Ok(())
        }
        Value::Seq(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                walk(child, format!("{path}[{i}]"), f)?;
            }
            Ok(())
        }
        _ => f(&path, v),
    }
}

/// The paths of quoted scalar values (`'…'`, `"…"`, block scalars), in the same path
/// form as the rest of this crate.
fn quoted_paths(text: &str) -> HashSet<String> {
    enum Frame {
        Map { path: String, key: Option<String> },
        Seq { path: String, next: usize },
    }
    struct Q {
        stack: Vec<Frame>,
        out: HashSet<String>,
    }
    impl Q {
        fn next(&mut self, key_text: Option<&str>) -> Option<String> {
            match self.stack.last_mut() {
                None => Some(String::new()),
                Some(Frame::Seq { path, next }) => {
                    let p = format!("{path}[{next}]");
                    *next += 1;
                    Some(p)
                }
                Some(Frame::Map { path, key }) => match key.take() {
                    Some(k) => Some(if path.is_empty() {
                        k
                    } else {
                        format!("{path}.{k}")
                    }),
                    None => {
                        *key = Some(key_text.unwrap_or("?").to_string());
                        None
                    }
                },
            }
        }
    }
    impl MarkedEventReceiver for Q {
        fn on_event(&mut self, ev: Event, _: Marker) {
            match ev {
                Event::Scalar(ref s, style, ..) => {
                    if let Some(p) = self.next(Some(s)) {
                        if style != TScalarStyle::Plain {
                            self.out.insert(p);
                        }
                    }
                }
                Event::Alias(_) => {
                    self.next(None);
                }
                Event::MappingStart(..) => {
                    let path = self.next(None).unwrap_or_default();
                    self.stack.push(Frame::Map { path, key: None });
                }
                Event::SequenceStart(..) => {
                    let path = self.next(None).unwrap_or_default();
                    self.stack.push(Frame::Seq { path, next: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    self.stack.pop();
                }
                _ => {}
            }
        }
    }
    let mut q = Q {
        stack: Vec::new(),
        out: HashSet::new(),
    };
    let _ = Parser::new_from_str(text).load(&mut q, false);
    q.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct W {
        n: u32,
        s: String,
        list: Vec<u32>,
    }

    fn sub(path: &str, s: &str) -> Result<Option<String>, String> {
        let _ = path;
        Ok(s.contains("${")
            .then(|| s.replace("${N}", "8").replace("${BAD}", "eight")))
    }

    #[test]
    fn plain_values_are_typed_after_substitution_and_quoted_ones_stay_strings() {
        // (In a flow list `[1, ${N}]` the braces are YAML syntax: a block list is used.)
        let text = "n: ${N}\ns: \"${N}\"\nlist:\n  - 1\n  - ${N}\n";
        let w: W = from_str_rewritten(Path::new("x.yaml"), text, &mut sub).unwrap();
        assert_eq!(
            w,
            W {
                n: 8,
                s: "8".into(),
                list: vec![1, 8]
            }
        );
    }

    #[test]
    fn a_bad_substituted_value_is_located_at_the_variable_with_the_text_as_written() {
        let text = "s: x\nlist: []\nn: ${BAD}\n";
        let e = from_str_rewritten::<W>(Path::new("x.yaml"), text, &mut sub).unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(4)), "{e}");
        assert_eq!(e.path, "n");
        assert!(e.message.contains("\"${BAD}\" after substitution"), "{e}");
        let mut refuse = |_: &str, s: &str| -> Result<Option<String>, String> {
            if s.contains("${") {
                Err("UNSET is not set".into())
            } else {
                Ok(None)
            }
        };
        let e = from_str_rewritten::<W>(
            Path::new("x.yaml"),
            "n: 1\ns: ${UNSET}\nlist: []\n",
            &mut refuse,
        )
        .unwrap_err();
        assert_eq!((e.line, e.path.as_str()), (Some(2), "s"), "{e}");
    }
}
