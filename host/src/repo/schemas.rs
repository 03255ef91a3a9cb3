//! The JSON Schemas of the manifests, as this bkt was built with them (`schemas/`): a new
//! repository gets the ones its manifests' `$schema` names, so editors resolve them offline.

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/manifest_schemas.rs"));
}

/// The folder beside `manifests/` that holds them.
pub const FOLDER: &str = "schemas";

/// The schema of manifest `name` (`kargs.json` → `kargs.schema.json`): its file name and text.
pub fn of_manifest(name: &str) -> Option<(&'static str, &'static str)> {
    let file = format!("{}.schema.json", name.strip_suffix(".json")?);
    embedded::SCHEMAS.iter().find(|(f, _)| *f == file).copied()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_manifest_has_its_schema() {
        for name in ["system-packages.json", "gsettings.json", "kargs.json"] {
            let (file, text) = super::of_manifest(name).expect(name);
            assert!(file.ends_with(".schema.json"));
            assert!(text.contains("json-schema.org"), "{file}");
        }
        assert!(super::of_manifest("nothing.json").is_none());
        assert!(super::of_manifest("kargs").is_none());
    }
}
