"""`cnn-studio lectures` and `cnn-studio lectures N`."""

import json

from studio.cli import main


def test_lists_five_tours(capsys):
    assert main(["lectures"]) == 0
    out = capsys.readouterr().out
    assert "1  Lecture: CNN basics on CIFAR-10" in out
    assert len([line for line in out.splitlines() if line[:1].isdigit()]) == 5


def test_prints_a_tour_with_checked_numbers(capsys):
    assert main(["lectures", "2"]) == 0
    out = capsys.readouterr().out
    assert "✓ total: lecture 224 + 1168 + 32800 + 330 = 34522 · studio 224 + 1168 + 32800 + 330 = 34522" in out
    assert "✗" not in out
    assert "11 of 11 numbers agree with the lecture." in out


def test_json_and_a_failing_check_exits_1(capsys, monkeypatch):
    from studio.core.lectures import values

    assert main(["lectures", "4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed"] == 0 and doc["steps"][6]["checks"][0]["lecture"][0] == 2.8423
    monkeypatch.setattr(values, "correlation", lambda example: [0])
    assert main(["lectures", "4", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["failed"] == 3


def test_unknown_lecture_is_one_line(capsys):
    assert main(["lectures", "9"]) == 1
    assert "numbered 0 to 4" in capsys.readouterr().err


def test_the_list_shows_where_the_student_stopped(capsys):
    from studio.core.lectures import progress

    progress.remember(3, 4)
    main(["lectures"])
    assert "(you stopped at step 5)" in capsys.readouterr().out
