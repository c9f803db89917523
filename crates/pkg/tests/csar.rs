//! The CSAR reader against the sample package and against hostile archives.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap should fail loudly

use std::collections::BTreeSet;
use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tacker_pkg::{extract, inspect, ArchiveLimits, PackageError, MAX_YAML_DEPTH};
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/packages/sample_cnf")
}

/// The files of a directory tree as (relative path, bytes), sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        zip.start_file(name.as_str(), SimpleFileOptions::default())
            .unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

struct Unpacked {
    _dir: tempfile::TempDir,
    dest: PathBuf,
    result: Result<BTreeSet<String>, PackageError>,
}

fn unpack_with(bytes: &[u8], limits: &ArchiveLimits) -> Unpacked {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("pkg.zip");
    fs::write(&archive, bytes).unwrap();
    let dest = dir.path().join("out");
    let result = extract(&archive, &dest, limits);
    Unpacked {
        _dir: dir,
        dest,
        result,
    }
}

fn unpack(bytes: &[u8]) -> Unpacked {
    unpack_with(bytes, &ArchiveLimits::default())
}

/// The error message of a rejected archive; the output directory must be gone.
fn rejected(unpacked: Unpacked) -> String {
    assert!(!unpacked.dest.exists(), "a rejected package left files behind");
    match unpacked.result {
        Err(PackageError::Invalid(problem)) => problem.to_string(),
        other => panic!("expected the package to be rejected, got {other:?}"),
    }
}

/// The sample package with some files replaced (or removed when `None`).
fn sample_with(changes: &[(&str, Option<&str>)]) -> Vec<(String, Vec<u8>)> {
    let mut files = tree(&sample_dir());
    for (name, content) in changes {
        files.retain(|(n, _)| n != name);
        if let Some(content) = content {
            files.push((name.to_string(), content.as_bytes().to_vec()));
        }
    }
    files
}

fn onboard(files: &[(String, Vec<u8>)]) -> Result<tacker_pkg::Csar, String> {
    let unpacked = unpack(&zip_of(files));
    let names = unpacked.result.map_err(|e| e.to_string())?;
    inspect(&unpacked.dest, &names).map_err(|e| e.to_string())
}

#[test]
fn the_sample_package_onboards_with_its_vnfd_model() {
    let csar = onboard(&tree(&sample_dir())).unwrap();
    let vnfd = &csar.vnfd;
    assert_eq!(vnfd.vnfd_id, "6b0b2cc3-0f5e-4a3c-9a4e-5f8d2f1c7a10");
    assert_eq!(vnfd.provider, "tacker-rs");
    assert_eq!(vnfd.product_name, "Sample CNF");
    assert_eq!(
        (vnfd.software_version.as_str(), vnfd.descriptor_version.as_str()),
        ("1.0", "1.0")
    );

    let flavour = vnfd.flavour("simple").unwrap();
    let vdus: Vec<_> = flavour
        .vdus
        .iter()
        .map(|v| (v.id.as_str(), v.name.as_str(), v.max_instances))
        .collect();
    assert_eq!(vdus, [("VDU1", "web", 4), ("VDU2", "kv", 3)]);
    assert_eq!(flavour.vdus[0].initial_instances, Some(1));
    let web = flavour
        .scaling_aspects
        .iter()
        .find(|a| a.id == "web_aspect")
        .unwrap();
    assert_eq!(web.max_scale_level, 3);
    assert_eq!(web.vdu_deltas["VDU1"]["delta_1"], 1);
    let largest = flavour
        .instantiation_levels
        .iter()
        .find(|l| l.id == "instantiation_level_2")
        .unwrap();
    assert_eq!(largest.scale_levels["kv_aspect"], 2);
    assert_eq!(largest.vdu_instances["VDU1"], 4);
    assert_eq!(
        flavour.default_instantiation_level.as_deref(),
        Some("instantiation_level_1")
    );

    let artifacts: Vec<_> = csar.artifacts.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(
        artifacts,
        [
            "Files/kubernetes/configmap.yaml",
            "Files/kubernetes/deployment.yaml",
            "Files/kubernetes/service.yaml",
            "Files/kubernetes/statefulset.yaml"
        ]
    );
    assert!(csar.vnfd_files.contains(&"TOSCA-Metadata/TOSCA.meta".to_string()));
    assert!(csar
        .vnfd_files
        .contains(&"Definitions/sample_cnf_df_simple.yaml".to_string()));
    assert!(!csar.vnfd_files.iter().any(|f| f.starts_with("Files/")));
}

#[test]
fn a_changed_artifact_fails_its_hash_check() {
    let files = sample_with(&[(
        "Files/kubernetes/deployment.yaml",
        Some("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"),
    )]);
    assert_eq!(
        onboard(&files).unwrap_err(),
        "Files/kubernetes/deployment.yaml: the SHA-256 hash does not match the one declared in TOSCA-Metadata/TOSCA.meta"
    );
}

#[test]
fn a_missing_artifact_is_named() {
    let files = sample_with(&[("Files/kubernetes/service.yaml", None)]);
    assert_eq!(
        onboard(&files).unwrap_err(),
        "TOSCA-Metadata/TOSCA.meta: names artifact 'Files/kubernetes/service.yaml', which is not in the package"
    );
}

#[test]
fn broken_vnfd_files_are_named_with_the_problem() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "Definitions/sample_cnf_df_simple.yaml",
            "topology_template: [",
            "Definitions/sample_cnf_df_simple.yaml: invalid YAML",
        ),
        (
            "Definitions/sample_cnf_types.yaml",
            "node_types: {}\n",
            "Definitions/sample_cnf_types.yaml: tosca_definitions_version is missing",
        ),
        (
            "TOSCA-Metadata/TOSCA.meta",
            "TOSCA-Meta-File-Version: 1.0\n",
            "TOSCA-Metadata/TOSCA.meta: Entry-Definitions is missing",
        ),
        (
            "Definitions/sample_cnf_top.vnfd.yaml",
            "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [missing.yaml]\n",
            "Definitions/sample_cnf_top.vnfd.yaml: imports 'missing.yaml', which is not in the package",
        ),
        (
            "Definitions/sample_cnf_top.vnfd.yaml",
            "tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [../../../etc/passwd]\n",
            "which is outside the package",
        ),
    ];
    for (file, content, expected) in cases {
        let err = onboard(&sample_with(&[(file, Some(content))])).unwrap_err();
        assert!(
            err.starts_with(expected) || err.contains(expected),
            "{file}: got {err}"
        );
    }
}

#[test]
fn policies_must_refer_to_what_the_flavour_defines() {
    let df = fs::read_to_string(sample_dir().join("Definitions/sample_cnf_df_simple.yaml")).unwrap();
    let broken = df.replace("targets: [ VDU2 ]", "targets: [ VDU9 ]");
    let err = onboard(&sample_with(&[(
        "Definitions/sample_cnf_df_simple.yaml",
        Some(&broken),
    )]))
    .unwrap_err();
    assert!(
        err.starts_with("Definitions/sample_cnf_df_simple.yaml: policy '"),
        "{err}"
    );
    assert!(err.ends_with("targets 'VDU9', which is not a VDU"), "{err}");

    let broken = df.replace(
        "web_aspect:\n                  scale_level: 3",
        "web_aspect:\n                  scale_level: 7",
    );
    assert_ne!(broken, df);
    let err = onboard(&sample_with(&[(
        "Definitions/sample_cnf_df_simple.yaml",
        Some(&broken),
    )]))
    .unwrap_err();
    assert!(err.contains("above its max_scale_level 3"), "{err}");
}

#[test]
fn a_package_without_tosca_meta_uses_its_single_root_yaml() {
    let top = fs::read_to_string(sample_dir().join("Definitions/sample_cnf_top.vnfd.yaml")).unwrap();
    let top = top
        .replace("- sample_cnf_types.yaml", "- Definitions/sample_cnf_types.yaml")
        .replace(
            "- sample_cnf_df_simple.yaml",
            "- Definitions/sample_cnf_df_simple.yaml",
        );
    let mut files = sample_with(&[
        ("TOSCA-Metadata/TOSCA.meta", None),
        ("Definitions/sample_cnf_top.vnfd.yaml", None),
    ]);
    files.push(("sample.yaml".into(), top.into_bytes()));
    let csar = onboard(&files).unwrap();
    assert_eq!(csar.entry_definitions, "sample.yaml");
    assert_eq!(csar.vnfd.flavours.len(), 1);

    files.push(("other.yaml".into(), b"a: 1".to_vec()));
    assert!(onboard(&files).unwrap_err().contains("exactly one YAML file"));
}

#[test]
fn kubernetes_manifests_must_be_kubernetes_objects() {
    // Replace a manifest and declare it without a hash, so only the manifest check can fail.
    let meta = fs::read_to_string(sample_dir().join("TOSCA-Metadata/TOSCA.meta")).unwrap();
    let meta = format!("{meta}\nName: Files/kubernetes/extra.yaml\n");
    let files = sample_with(&[
        ("TOSCA-Metadata/TOSCA.meta", Some(&meta)),
        (
            "Files/kubernetes/extra.yaml",
            Some("kind: Deployment\nmetadata: {name: x}\n"),
        ),
    ]);
    assert_eq!(
        onboard(&files).unwrap_err(),
        "Files/kubernetes/extra.yaml: document 1 is not a Kubernetes object: apiVersion is missing"
    );
}

#[test]
fn a_yaml_alias_bomb_is_refused_quickly() {
    let mut bomb = String::from(
        "tosca_definitions_version: tosca_simple_yaml_1_2\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let err = onboard(&sample_with(&[(
        "Definitions/sample_cnf_types.yaml",
        Some(&bomb),
    )]))
    .unwrap_err();
    assert!(
        err.starts_with("Definitions/sample_cnf_types.yaml: invalid YAML"),
        "{err}"
    );
}

/// YAML nested 100,000 deep is a few hundred bytes, and libyaml's time grows with the square
/// of the nesting: it is refused by a scan before any parser sees it, naming the file.
#[test]
fn deeply_nested_yaml_is_refused_before_parsing() {
    const N: usize = 100_000;
    let head = "tosca_definitions_version: tosca_simple_yaml_1_2\n";
    let block_mapping: String = (0..600).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
    let hostile = [
        format!("{head}x: {}", "[".repeat(N)),
        format!("{head}x: {}{}", "[".repeat(N), "]".repeat(N)),
        format!("{head}x:\n{}y\n", "- ".repeat(N)),
        format!("{head}x: {}y", "{a: ".repeat(N)),
        format!("{head}{}y\n", "? ".repeat(N)),
        format!("{head}{block_mapping}"),
    ];
    let df = "Definitions/sample_cnf_df_simple.yaml";
    for text in &hostile {
        let err = onboard(&sample_with(&[(df, Some(text))])).unwrap_err();
        assert!(
            err.starts_with(&format!(
                "{df}: the YAML nesting is too deep: more than {MAX_YAML_DEPTH} levels at line "
            )),
            "{text:.80}: {err}"
        );
    }

    // Kubernetes manifests are read at onboarding and again at instantiation, through the
    // same guard.
    let meta = fs::read_to_string(sample_dir().join("TOSCA-Metadata/TOSCA.meta")).unwrap();
    let meta = format!("{meta}\nName: Files/kubernetes/extra.yaml\n");
    let manifest = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {}", "{a: ".repeat(N));
    let files = sample_with(&[
        ("TOSCA-Metadata/TOSCA.meta", Some(&meta)),
        ("Files/kubernetes/extra.yaml", Some(&manifest)),
    ]);
    assert_eq!(
        onboard(&files).unwrap_err(),
        format!("Files/kubernetes/extra.yaml: the YAML nesting is too deep: more than {MAX_YAML_DEPTH} levels at line 3")
    );
    assert!(tacker_pkg::parse_manifests(&manifest, "m.yaml")
        .unwrap_err()
        .to_string()
        .starts_with("m.yaml: the YAML nesting is too deep"));
}

/// Brackets in strings, comments and block scalars are text, however many there are.
#[test]
fn brackets_in_yaml_text_are_not_nesting() {
    let deep = "[{".repeat(1000);
    let df = fs::read_to_string(sample_dir().join("Definitions/sample_cnf_df_simple.yaml")).unwrap();
    let df = format!(
        "{df}\n# {deep}\nmetadata:\n  quoted: \"{deep}\"\n  single: '{deep}'\n  plain: x{deep}\n  block: |\n    {deep}\n    {deep}\n"
    );
    onboard(&sample_with(&[(
        "Definitions/sample_cnf_df_simple.yaml",
        Some(&df),
    )]))
    .unwrap();
}

/// The zip reader keeps only the last entry of a name, so a second copy could replace a
/// file after its first copy was looked at: two entries of one name are refused, before
/// anything is written.
#[test]
fn two_entries_of_one_name_are_refused() {
    let files = sample_with(&[("Definitions/sample_cnf_df_simple.yamX", Some("evil: true\n"))]);
    let bytes = zip_of(&files);
    let renamed = replace_all(
        &bytes,
        b"Definitions/sample_cnf_df_simple.yamX",
        b"Definitions/sample_cnf_df_simple.yaml",
    );
    assert_eq!(
        rejected(unpack(&renamed)),
        "Definitions/sample_cnf_df_simple.yaml: the package holds two entries of this name"
    );

    let bytes = zip_of(&[("a.yaml".into(), b"1".to_vec()), ("b.yaml".into(), b"2".to_vec())]);
    assert_eq!(
        rejected(unpack(&replace_all(&bytes, b"b.yaml", b"a.yaml"))),
        "a.yaml: the package holds two entries of this name"
    );
}

/// `haystack` with every `from` replaced by `to` (of the same length).
fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = haystack.to_vec();
    let mut replaced = 0;
    for i in 0..=out.len() - from.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            replaced += 1;
        }
    }
    assert!(replaced >= 2, "the name is in a local and a central header");
    out
}

#[test]
fn paths_escaping_the_package_are_refused() {
    for name in [
        "../evil.yaml",
        "Files/../../evil.yaml",
        "/etc/evil",
        "C:/evil",
        "a\\..\\evil",
        "./x",
        "a//b",
    ] {
        let err = rejected(unpack(&zip_of(&[(name.to_string(), b"x".to_vec())])));
        assert!(err.starts_with(name), "{name}: {err}");
    }
}

#[test]
fn symlinks_are_refused() {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.add_symlink("Files/link", "/etc/passwd", SimpleFileOptions::default())
        .unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert_eq!(
        rejected(unpack(&bytes)),
        "Files/link: symbolic links are not allowed in a package"
    );
}

#[test]
fn duplicate_and_conflicting_paths_are_refused() {
    let bytes = zip_of(&[
        ("a.yaml".into(), b"1".to_vec()),
        ("a.yaml/b".into(), b"2".to_vec()),
    ]);
    assert!(rejected(unpack(&bytes)).contains("both a file and a directory"));
}

#[test]
fn too_many_entries_are_refused() {
    let entries: Vec<_> = (0..11).map(|i| (format!("f{i}"), vec![])).collect();
    let limits = ArchiveLimits {
        max_entries: 10,
        ..ArchiveLimits::default()
    };
    assert_eq!(
        rejected(unpack_with(&zip_of(&entries), &limits)),
        "the package has 11 entries; at most 10 are allowed"
    );
}

#[test]
fn a_zip_bomb_is_refused_by_its_ratio_and_by_size_limits() {
    let zeros = vec![(String::from("Files/zeros"), vec![0u8; 8 << 20])];
    let bomb = zip_of(&zeros);
    assert!(bomb.len() < 100_000);
    assert!(rejected(unpack(&bomb)).starts_with("Files/zeros: the compression ratio exceeds 100:1"));

    let per_file = ArchiveLimits {
        max_entry_bytes: 1 << 20,
        max_compression_ratio: u64::MAX,
        ..ArchiveLimits::default()
    };
    assert_eq!(
        rejected(unpack_with(&bomb, &per_file)),
        "Files/zeros: the file is larger than 1048576 bytes uncompressed"
    );

    let halves = vec![
        ("a".to_string(), vec![1u8; 600_000]),
        ("b".to_string(), vec![2u8; 600_000]),
    ];
    let total = ArchiveLimits {
        max_total_bytes: 1_000_000,
        ..ArchiveLimits::default()
    };
    assert_eq!(
        rejected(unpack_with(&zip_of(&halves), &total)),
        "the package unpacks to more than 1000000 bytes"
    );
}

#[test]
fn sizes_that_lie_are_caught_while_unpacking() {
    // Declare 1 000 bytes for an entry that inflates to 8 MiB (patch the size fields).
    let mut bytes = zip_of(&[(String::from("big"), vec![7u8; 8 << 20])]);
    let real = (8u32 << 20).to_le_bytes();
    let fake = 1000u32.to_le_bytes();
    let mut patched = 0;
    for i in 0..bytes.len() - 4 {
        if bytes[i..i + 4] == real {
            bytes[i..i + 4].copy_from_slice(&fake);
            patched += 1;
        }
    }
    assert!(patched >= 2, "size fields not found");
    let limits = ArchiveLimits {
        max_entry_bytes: 1 << 20,
        ..ArchiveLimits::default()
    };
    rejected(unpack_with(&bytes, &limits));
}

#[test]
fn garbage_is_not_a_zip() {
    assert!(rejected(unpack(b"not a zip at all")).starts_with("the package is not a valid zip archive"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the entry names, nothing is ever written outside the output directory.
    #[test]
    fn nothing_lands_outside_the_package(names in prop::collection::btree_set("[a-z./\\\\:]{1,12}", 1..6)) {
        let entries: Vec<_> = names.iter().map(|n| (n.clone(), b"x".to_vec())).collect();
        let unpacked = unpack(&zip_of(&entries));
        let parent = unpacked.dest.parent().unwrap().to_path_buf();
        let outside: Vec<_> = fs::read_dir(&parent).unwrap().map(|e| e.unwrap().file_name()).collect();
        prop_assert!(outside.iter().all(|n| n == "out" || n == "pkg.zip"), "{outside:?}");
        match unpacked.result {
            Ok(files) => {
                for file in files {
                    prop_assert!(unpacked.dest.join(&file).canonicalize().unwrap().starts_with(unpacked.dest.canonicalize().unwrap()));
                }
            }
            Err(_) => prop_assert!(!unpacked.dest.exists()),
        }
    }

    /// Arbitrary bytes never panic the reader and never leave files behind.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let unpacked = unpack(&bytes);
        if unpacked.result.is_err() {
            prop_assert!(!unpacked.dest.exists());
        }
    }

    /// Arbitrary text in place of TOSCA.meta, a VNFD file or a manifest never panics the
    /// reader: it is onboarded or refused with a message.
    #[test]
    fn arbitrary_metadata_and_vnfd_text_never_panic(which in 0usize..4, text in "(.|\n){0,400}") {
        let targets = [
            "TOSCA-Metadata/TOSCA.meta",
            "Definitions/sample_cnf_top.vnfd.yaml",
            "Definitions/sample_cnf_df_simple.yaml",
            "Files/kubernetes/service.yaml",
        ];
        if let Err(message) = onboard(&sample_with(&[(targets[which], Some(&text))])) {
            prop_assert!(!message.is_empty());
        }
    }

    /// Cutting the flavour file anywhere gives a clean result or a message naming a file.
    #[test]
    fn truncated_vnfd_files_fail_cleanly(cut in 0usize..5000) {
        let df = fs::read_to_string(sample_dir().join("Definitions/sample_cnf_df_simple.yaml")).unwrap();
        let end = df.char_indices().map(|(i, _)| i).find(|i| *i >= cut.min(df.len())).unwrap_or(df.len());
        if let Err(message) = onboard(&sample_with(&[("Definitions/sample_cnf_df_simple.yaml", Some(&df[..end]))])) {
            prop_assert!(message.contains(".yaml"), "{}", message);
        }
    }

    /// A valid archive with one byte flipped is rejected cleanly or unpacked, never a panic.
    #[test]
    fn corrupted_archives_fail_cleanly(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let mut bytes = zip_of(&[("Files/a.yaml".into(), b"apiVersion: v1\nkind: ConfigMap\n".repeat(20))]);
        let i = index.index(bytes.len());
        bytes[i] ^= flip;
        let unpacked = unpack(&bytes);
        if unpacked.result.is_err() {
            prop_assert!(!unpacked.dest.exists());
        }
    }
}
