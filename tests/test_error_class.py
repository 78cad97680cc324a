"""The stored validation error per class (GPU generation x framework x phase) is the model's own."""
from inference_arithmetic.core.cited import DATA
from inference_arithmetic.evidence import error_class, error_table, validation


def test_stored_classes_are_a_fresh_computation():
    assert (DATA / error_class.FILE).read_text(encoding="utf-8") == error_table.render(error_table.table())


def test_the_stored_headline_groups_are_the_whole_set_and_its_parts():
    preds = validation.predict_all()
    groups = error_table.headline_groups(preds)
    every = groups[error_class.headline_key("every family")]
    assert every["n"] == len(validation.scored(preds)) and every["mape"] == error_table.stable(
        validation.summary(preds)["mape"], 3)
    ds = groups[error_class.headline_key("deepseek-v3")]
    parts = [groups[error_class.headline_key(g)]["n"] for g in ("deepseek-v3 on Hopper", "deepseek-v3 on Blackwell")]
    assert sum(parts) <= ds["n"] <= every["n"]


def test_a_class_is_its_entries_and_wider_classes_hold_them_all():
    table = error_table.classes()
    scored = validation.scored(validation.predict_all())
    for phase in {p.phase for p in scored}:
        assert table[error_class.class_key("any", "any", phase)]["n"] == sum(p.phase == phase for p in scored)
    h800 = [p for p in scored if p.gpu == "H800" and p.phase == "decode"
            and validation.entry_framework(p.id) == "deepseek"]
    if h800:
        got = error_class.error_of("H800", "deepseek", "decode")
        assert got["exact"] and got["n"] == len(h800)


def test_a_class_without_entries_says_which_wider_class_answered():
    got = error_class.error_of("GB300", "no-such-framework", "decode")
    assert got is not None and not got["exact"] and got["class"].startswith("Blackwell | any | decode")
    assert error_class.error_of("GB300", "deepseek", "no-such-phase") is None


def test_every_planned_deployment_and_pool_states_its_class_error(capsys):
    import json
    from inference_arithmetic import cli
    assert cli.main(["plan", "--model", "deepseek-v3", "--tokens-per-day", "1e10", "--isl", "2000", "--osl", "500",
                     "--per-user", "20", "--top", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for d in out["deployments"]:
        assert d["validation_error"] == error_class.error_of(d["gpu"], out["framework"], "end-to-end")
        for p in d["pools"]:
            assert p["validation_error"]["class"].endswith(error_class.ROLE_PHASE[p["role"]])


def test_the_stored_family_groups_partition_the_set_and_name_their_sources():
    preds = validation.predict_all()
    groups = error_table.family_groups(preds)
    every = error_table.headline_groups(preds)[error_class.headline_key("every family")]
    fams = {k: g for k, g in groups.items() if k.startswith("family | ")}
    assert sum(g["n"] for g in fams.values()) == every["n"] and all(g["sources"] for g in fams.values())
    ds = fams[error_class.family_key("deepseek-v3")]
    assert ds["n"] == error_table.headline_groups(preds)[error_class.headline_key("deepseek-v3")]["n"]
    user = [p for p in validation.scored(preds) if validation.family(p) == "deepseek-v3"
            and p.metric == "tokens_per_s_per_user"]
    assert groups[error_class.PER_USER_KEY]["n"] == len(user) > 0
    assert error_class.stored()[error_class.family_key("gpt-oss-120b")] == groups[error_class.family_key("gpt-oss-120b")]
