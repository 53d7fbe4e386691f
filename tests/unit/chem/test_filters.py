"""Drug-likeness filters on known molecules, expressions, SMARTS files and a real NCI sample."""

from __future__ import annotations

import itertools
import os
import pickle

import pandas as pd
import pytest
from rdkit import Chem, RDConfig

import biomodels.chem as chem
from biomodels.chem.filters import (
    FILTERS,
    PASSES_ALL,
    LipinskiFilter,
    ThresholdCriterion,
    apply_filters,
    filter_summary,
    load_smarts_filters,
    parse_filter_expression,
)
from biomodels.chem.properties import compute_properties
from biomodels.exceptions import InputError

ASPIRIN = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
RHODANINE_ENE = Chem.MolFromSmiles("O=C1NC(=S)SC1=Cc1ccccc1")  # PAINS_A ene_rhod_A(235)
CATECHOL = Chem.MolFromSmiles("Oc1ccccc1O")  # PAINS_B catechol_A(92)
HEXADECANE = Chem.MolFromSmiles("CCCCCCCCCCCCCCCC")  # cLogP 6.5: exactly one Ro5 violation
CYCLOSPORIN_A = Chem.MolFromSmiles(
    "CC[C@H]1C(=O)N(CC(=O)N([C@H](C(=O)N[C@H](C(=O)N([C@H](C(=O)N[C@H](C(=O)N[C@@H](C(=O)"
    "N([C@H](C(=O)N([C@H](C(=O)N([C@H](C(=O)N([C@H](C(=O)N1)[C@@H]([C@H](C)C/C=C/C)O)C)"
    "C(C)C)C)CC(C)C)C)CC(C)C)C)C)C)CC(C)C)C)C(C)C)CC(C)C)C)C"
)


def test_aspirin_passes_rules_and_pains_but_hits_brenk_phenol_ester():
    row = apply_filters([ASPIRIN], "lipinski,veber,pains,brenk").iloc[0]
    assert row["pass_lipinski"] and row["pass_veber"] and row["pass_pains"]
    assert row["pains_match"] == ""
    assert not row["pass_brenk"]
    assert row["brenk_match"] == "phenol_ester"


def test_rhodanine_ene_is_a_pains_a_hit_only():
    row = apply_filters([RHODANINE_ENE], "pains,pains_a,pains_b,pains_c,nih").iloc[0]
    assert not row["pass_pains"] and not row["pass_pains_a"]
    assert row["pains_match"] == row["pains_a_match"] == "ene_rhod_A(235)"
    assert row["pass_pains_b"] and row["pass_pains_c"]
    assert row["nih_match"] == "rhodanine"


def test_catechol_is_a_pains_b_hit():
    row = apply_filters([CATECHOL], "pains_a,pains_b").iloc[0]
    assert row["pass_pains_a"]
    assert not row["pass_pains_b"] and row["pains_b_match"] == "catechol_A(92)"


def test_cyclosporin_fails_lipinski_and_veber():
    row = apply_filters([CYCLOSPORIN_A], "lipinski,veber").iloc[0]
    assert row["mw"] > 1200 and row["hba"] > 10  # two violations
    assert not row["pass_lipinski"] and not row["pass_veber"]


def test_lipinski_allows_one_violation_by_default():
    frame = apply_filters([HEXADECANE], [LipinskiFilter(), LipinskiFilter(0, name="ro5_strict")])
    assert frame["clogp"][0] > 5
    assert frame["pass_lipinski"][0]
    assert not frame["pass_ro5_strict"][0]


def test_parse_expression_gives_filters_and_thresholds():
    criteria = parse_filter_expression(" qed >= 0.5, sa<=4 ,pains,lipinski,mw<5e2")
    assert [c.name for c in criteria] == ["qed>=0.5", "sa<=4", "pains", "lipinski", "mw<5e2"]
    assert criteria[0] == ThresholdCriterion("qed", ">=", 0.5, name="qed>=0.5")
    assert criteria[2] is FILTERS.get("pains")
    assert criteria[4].value == 500.0


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("qed>>0.5", "bad filter term 'qed>>0.5'.*<property><op><number>"),
        ("qed>=high", "bad filter term 'qed>=high'"),
        ("logp<5", "unknown property 'logp'.*clogp"),
        ("lipinsky", "'lipinsky'.*neither.*lipinski, nih, organic, pains"),
        ("pains,,qed>1", "empty term"),
        ("", "empty term"),
        ("pains, pains", "'pains'.*repeated"),
    ],
)
def test_parse_expression_names_the_bad_term(expression, message):
    with pytest.raises(InputError, match=message):
        parse_filter_expression(expression)


def test_thresholds_compare_as_written_and_nan_fails():
    frame = apply_filters([ASPIRIN, None], "mw>180,mw<181,hbd==1,hbd!=1,qed>0.5")
    assert frame.iloc[0][["pass_mw>180", "pass_mw<181", "pass_hbd==1"]].all()
    assert not frame["pass_hbd!=1"][0]
    assert not frame.iloc[1].filter(like="pass").any()


def test_none_molecules_fail_every_criterion_with_nan_properties():
    frame = apply_filters([None, ASPIRIN, None], "lipinski,veber,pains,qed>=0.1")
    assert len(frame) == 3
    assert not frame.loc[[0, 2], ["pass_lipinski", "pass_veber", "pass_pains", PASSES_ALL]].any(axis=None)
    assert frame.loc[[0, 2], ["mw", "qed", "tpsa"]].isna().all(axis=None)
    assert frame.loc[[0, 2], "pains_match"].isna().all()
    assert frame[PASSES_ALL][1]


def test_given_properties_are_reused_and_missing_ones_computed():
    given = pd.DataFrame({"qed": [0.99, 0.0]}, index=[10, 11])  # deliberately not RDKit's QED
    frame = apply_filters([ASPIRIN, None], "qed>=0.9,veber", properties=given)
    assert list(frame.index) == [10, 11]
    assert frame["pass_qed>=0.9"].tolist() == [True, False]  # None never passes
    assert frame.loc[10, "rotb"] == 2  # computed because it was not given
    with pytest.raises(ValueError, match="1 rows but there are 2 molecules"):
        apply_filters([ASPIRIN, None], "veber", properties=given.iloc[:1])


def test_apply_filters_rejects_no_criteria_and_duplicate_names():
    with pytest.raises(ValueError, match="no filter criteria"):
        apply_filters([ASPIRIN], [])
    with pytest.raises(ValueError, match="unique"):
        apply_filters([ASPIRIN], [LipinskiFilter(), LipinskiFilter(0)])


def test_smarts_file_alerts(tmp_path):
    path = tmp_path / "alerts.smarts"
    path.write_text("# reactive groups\n\n[N+](=O)[O-]\tnitro group\n  [#6]C(=O)O[#6]\n")
    nitrobenzene = Chem.MolFromSmiles("c1ccccc1[N+](=O)[O-]")
    frame = apply_filters([nitrobenzene, ASPIRIN, CATECHOL], "veber", smarts_path=path)
    assert frame["pass_smarts"].tolist() == [False, False, True]
    assert frame["smarts_match"].tolist() == ["nitro group", "[#6]C(=O)O[#6]", ""]
    assert frame[PASSES_ALL].tolist() == [False, False, True]


def test_smarts_file_with_bad_pattern_names_file_and_line(tmp_path):
    path = tmp_path / "bad.smarts"
    path.write_text("# header\n[N+](=O)[O-] nitro\n\nC(( broken ring\n")
    with pytest.raises(InputError, match=r"bad\.smarts, record 4: invalid SMARTS 'C\(\('") as err:
        load_smarts_filters(path)
    assert err.value.record == 4


@pytest.mark.parametrize("text", ["", "# only a comment\n\n"])
def test_smarts_file_without_patterns_is_an_error(tmp_path, text):
    path = tmp_path / "empty.smarts"
    path.write_text(text)
    with pytest.raises(InputError, match="no SMARTS patterns"):
        load_smarts_filters(path)


def test_missing_smarts_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read SMARTS file"):
        load_smarts_filters(tmp_path / "absent.smarts")


def test_filter_summary_counts_passes_per_rule():
    mols = [ASPIRIN, RHODANINE_ENE, CYCLOSPORIN_A, None]
    summary = filter_summary(apply_filters(mols, "lipinski,pains"))
    assert summary == {
        "molecules": 4,
        "pass_lipinski": 2,
        "pass_pains": 2,
        PASSES_ALL: 1,
    }


def test_criteria_pickle_and_work_after_unpickling(tmp_path):
    path = tmp_path / "alerts.smarts"
    path.write_text("[N+](=O)[O-] nitro\n")
    criteria = [*parse_filter_expression("qed>=0.3,pains,lipinski"), load_smarts_filters(path)]
    restored = pickle.loads(pickle.dumps(criteria))
    assert restored == criteria
    mols = [ASPIRIN, RHODANINE_ENE]
    pd.testing.assert_frame_equal(apply_filters(mols, restored), apply_filters(mols, criteria))


def test_every_registered_filter_runs():
    frame = apply_filters([ASPIRIN, RHODANINE_ENE], list(map(FILTERS.get, FILTERS)))
    assert set(FILTERS.names()) == {
        "lipinski", "veber", "pains", "pains_a", "pains_b", "pains_c", "brenk", "nih", "organic",
    }  # fmt: skip
    assert frame[[f"pass_{name}" for name in FILTERS]].dtypes.eq(bool).all()


def test_package_exports_exist():
    for name in chem.__all__:
        assert hasattr(chem, name), name


def test_nci_sample_is_mostly_drug_like():
    path = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
    with open(path) as handle:
        smiles = [line.split()[0] for line in itertools.islice(handle, 200)]
    mols = [Chem.MolFromSmiles(s) for s in smiles]

    props = compute_properties(mols)
    frame = apply_filters(mols, "lipinski,veber,qed>=0.5", properties=props)

    assert len(frame) == 200
    assert 0.5 < frame["pass_lipinski"].mean() < 1.0  # small NCI compounds: 194 of 200 pass
    alerts = apply_filters(mols, "pains", properties=props)
    assert 0.8 < alerts["pass_pains"].mean() < 1.0  # 9 of these 200 carry a PAINS motif


# --- the organic-elements filter and the fragment count ----------------------------------------

METAL_COMPLEXES = {
    "C1CN[Co]23(N1)(NCCN2)NCCN3": "Co",  # cobalt tris(ethylenediamine), the demo's old top hit
    "C1CN[Ni]23(N1)(NCCN2)NCCN3": "Ni",
    "Cl[Pt-2](Cl)(Cl)(Cl)(Cl)Cl": "Pt",  # hexachloroplatinate
    "[Fe+2].c1cc[cH-]c1.c1cc[cH-]c1": "Fe",  # ferrocene
    "N[Pt](N)(Cl)Cl": "Pt",  # cisplatin
    "C[As](C)C": "As",  # a metalloid outside the list
}
DRUG_LIKE = [
    "CC(=O)Nc1ccc(O)cc1",  # paracetamol
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",  # ibuprofen
    "CC(C)CC(NC(=O)C(Cc1ccccc1)NC(=O)c1cnccn1)B(O)O",  # bortezomib: boron is allowed
    "O=C1c2ccccc2[se]n1-c1ccccc1",  # ebselen: selenium is allowed
    "FC(F)(F)c1ccc(Oc2ccc(Cl)cc2)cc1Br",
]


def test_organic_filter_rejects_metal_complexes_and_keeps_drug_like_molecules():
    smiles = [*METAL_COMPLEXES, *DRUG_LIKE]
    result = apply_filters([Chem.MolFromSmiles(s) for s in smiles] + [None], "organic")
    n = len(METAL_COMPLEXES)
    assert not result["pass_organic"][:n].any() and result["pass_organic"][n:-1].all()
    assert result["organic_match"][:n].tolist() == list(METAL_COMPLEXES.values())
    assert (result["organic_match"][n:-1] == "").all() and pd.isna(result["organic_match"].iloc[-1])
    assert not result["pass_organic"].iloc[-1]  # an unparsed row passes nothing


def test_fragments_count_what_remains_after_salt_stripping():
    counts = compute_properties(
        [Chem.MolFromSmiles(s) for s in ("CCO", "CC(=O)[O-].[Na+]", "Cl.CCN", "c1ccccc1.CCO", "[Na+].[Cl-]")],
        ["fragments"],
    )["fragments"].tolist()
    assert counts == [1, 1, 1, 2, 1]  # a salt is one compound, a mixture two; all-salt keeps one
