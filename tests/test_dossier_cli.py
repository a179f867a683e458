"""``flask dossier build``: the command line around the dossier builder."""

from __future__ import annotations

import zipfile

from pypdf import PdfReader

from .test_dossier_pdf import outline_titles, setting  # noqa: F401


def test_build_writes_pdf_and_zip_with_filters(setting, runner, tmp_path):  # noqa: F811
    campaign = setting.campaign
    pdf, archive = tmp_path / "dossier.pdf", tmp_path / "dossier.zip"
    result = runner.invoke(args=[
        "dossier", "build", str(campaign.id), "--output", str(pdf), "--zip", str(archive),
        "--referentiel", "e2c-label", "--site", "tpm", "--date", "2018-04-24",
    ])
    assert result.exit_code == 0, result.output
    assert "Dossier écrit" in result.output and "pièces" in result.output
    assert "100 % Dossier prêt" in result.output
    reader = PdfReader(pdf)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Critère A1 –" in text and "Indicateur 1 –" not in text
    assert "24/04/2018" in text
    assert "Sites couverts" in text and "Site TPM" in text
    assert any(title.startswith("Pièce ") for _d, title, _p in outline_titles(pdf))
    with zipfile.ZipFile(archive) as bundle:
        assert "dossier.pdf" in bundle.namelist() and "manifest.csv" in bundle.namelist()


def test_build_without_annexes_and_with_personal_data(setting, runner, tmp_path):  # noqa: F811
    pdf = tmp_path / "court.pdf"
    result = runner.invoke(args=["dossier", "build", str(setting.campaign.id), "--output",
                                 str(pdf), "--sans-annexes", "--donnees-personnelles"])
    assert result.exit_code == 0, result.output
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Annexe – Pièce" not in text
    assert setting.proofs["personnelle"].title in text


def test_bad_arguments_are_refused_in_french(setting, runner, tmp_path):  # noqa: F811
    pdf = tmp_path / "x.pdf"
    cases = [
        (["999999"], "Campagne inconnue"),
        ([str(setting.campaign.id), "--site", "nulle-part"], "Site inconnu"),
        ([str(setting.campaign.id), "--referentiel", "iso-9001"], "non suivi par la campagne"),
        ([str(setting.campaign.id), "--date", "24/04/2018"], "AAAA-MM-JJ"),
    ]
    for extra, message in cases:
        result = runner.invoke(args=["dossier", "build", *extra, "--output", str(pdf)])
        assert result.exit_code != 0, extra
        assert message in result.output, (extra, result.output)
    assert not pdf.exists()


def test_worker_command_refuses_when_builds_run_in_process(runner):
    result = runner.invoke(args=["dossier", "worker", "--burst"])
    assert result.exit_code != 0
    assert "AUDIT_TRACKER_DOSSIER_QUEUE=rq" in result.output
