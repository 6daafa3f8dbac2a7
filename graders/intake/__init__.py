"""Submission intake: how notebooks reach `submitted/<student>/<assignment>/`, and their deadlines.

  exchange.py    nbgrader's exchange (release, collect) and the config students need
  lms.py         notebooks downloaded from an LMS (zip or folder) with the student id in the name
  deadlines.py   extensions: a later due date per student, set in the gradebook before late penalties
  safecopy.py    copying student folders as data: regular files only, no links, pipes, devices, hard links
  late.py        the late penalty (an nbgrader LateSubmissionPlugin) and the notice in the feedback

Messages to staff follow LANGUAGE ('ko' or 'en'); the catalog is below.
"""
from __future__ import annotations

from ..config import ConfigError
from ..messages import pick


class IntakeError(ConfigError):
    """A whole intake command cannot go on (the exchange folder, a download that is not a zip, ...)."""


STAFF: dict[str, dict[str, str]] = {
    # exchange
    "exchange_cannot_create": {
        "ko": "exchange 폴더 {root} 를 만들 수 없습니다 ({why}). 해결: root 권한으로 한 번 만드세요 "
              "(sudo mkdir -p {root} && sudo chmod 777 {root}), 또는 course_config.py 의 EXCHANGE_DIR 를 "
              "쓸 수 있는 폴더로 바꾸세요",
        "en": "cannot create the exchange folder {root} ({why}). Fix: create it once as root "
              "(sudo mkdir -p {root} && sudo chmod 777 {root}), or set EXCHANGE_DIR in course_config.py "
              "to a folder you can write",
    },
    "exchange_not_folder": {
        "ko": "EXCHANGE_DIR {root} 가 폴더가 아닙니다. 해결: course_config.py 의 EXCHANGE_DIR 를 폴더 경로로 고치세요",
        "en": "EXCHANGE_DIR {root} is not a folder. Fix: set EXCHANGE_DIR in course_config.py to a folder path",
    },
    "exchange_no_release": {
        "ko": "release/{a} 가 없습니다. 해결: 먼저 python -m graders release {a}",
        "en": "release/{a} does not exist. Fix: run python -m graders release {a} first",
    },
    "exchange_failed": {
        "ko": "nbgrader {verb} 실패 ({a}): {why}",
        "en": "nbgrader {verb} failed for {a}: {why}",
    },
    "exchange_released": {
        "ko": "{a} 를 exchange 에 배포했습니다: {dest}",
        "en": "released {a} to the exchange: {dest}",
    },
    "exchange_access": {
        "ko": "학생이 {path} 를 {what} 수 없습니다 (권한 {mode}). 해결: chmod {fix} {path}",
        "en": "students cannot {what} {path} (mode {mode}). Fix: chmod {fix} {path}",
    },
    "access_traverse": {"ko": "지나갈", "en": "reach"},
    "access_read": {"ko": "읽을", "en": "read"},
    "access_write": {"ko": "쓸", "en": "write to"},
    "exchange_nothing": {
        "ko": "exchange 에 {course} 과정이 아직 없습니다 ({inbound} 없음). 해결: python -m graders exchange release {a} "
              "후 학생들이 제출하면 다시 수집하세요",
        "en": "the exchange has nothing for course {course} yet ({inbound} is missing). "
              "Fix: python -m graders exchange release {a}, then collect after students submit",
    },
    "collect_summary": {
        "ko": "{a}: exchange 에 {n}명의 제출 ({subs}건) → 새로 {new}명, 갱신 {updated}명, 변화 없음 {same}명",
        "en": "{a}: {n} students in the exchange ({subs} submissions) → {new} new, {updated} updated, {same} unchanged",
    },
    "collect_new": {"ko": "새 제출", "en": "new"},
    "collect_updated": {"ko": "더 새 제출로 갱신", "en": "updated to the newest submission"},
    "collect_kept": {
        "ko": "submitted/ 에 더 늦은 제출이 이미 있어 그대로 둡니다",
        "en": "a newer submission is already in submitted/; kept it",
    },
    "collect_not_folder": {
        "ko": "제출 폴더가 아니라 {what} 입니다: 가져오지 않았습니다",
        "en": "not a submission folder but {what}: not collected",
    },
    "collect_bad_id": {
        "ko": "'{student}' 는 학생 id 로 쓸 수 없습니다 (글자, 숫자, '.', '_', '-', '@' 만): 가져오지 않았습니다",
        "en": "'{student}' cannot be a student id (letters, digits, '.', '_', '-', '@' only): not collected",
    },
    "collect_wrong_folder": {
        "ko": "{folder} 의 inbound 폴더에 있는데 {student} 라고 주장합니다: 가져오지 않았습니다 (다른 학생 이름으로 "
              "제출한 것으로 보입니다. {folder} 에게 확인하세요)",
        "en": "in {folder}'s inbound folder but claims to be {student}: not collected (a submission under a "
              "classmate's name; ask {folder})",
    },
    "collect_wrong_owner": {
        "ko": "{student} 라고 주장하지만 파일 소유자는 OS 사용자 {owner} 입니다: 가져오지 않았습니다. 해결: 모든 학생이 "
              "한 OS 사용자(예: 'jovyan')로 실행되는 허브라면 학생별 inbound 폴더를 쓰세요 "
              "(python -m graders exchange inbound, docs/intake.md), 또는 위험을 알고 --allow-unverified 로 수집하세요",
        "en": "claims to be {student} but is owned by the OS user {owner}: not collected. Fix: on a hub where every "
              "student runs as one OS user (e.g. 'jovyan') use per-student inbound folders "
              "(python -m graders exchange inbound, docs/intake.md), or collect with --allow-unverified at your own risk",
    },
    "collect_unverified": {
        "ko": "신원을 확인하지 못한 채 수집했습니다 (--allow-unverified): {who}",
        "en": "collected without a verified identity (--allow-unverified): {who}",
    },
    "collect_backdated": {
        "ko": "{student}: 제출 이름/timestamp.txt 의 시각 {claimed} 는 exchange 가 본 시각 {seen} 보다 이릅니다. "
              "학생이 쓴 시각은 쓰지 않고 {seen} 을 제출 시각으로 씁니다",
        "en": "{student}: the submission's name/timestamp.txt says {claimed}, earlier than when the exchange saw it, "
              "{seen}; the student-written time is not used, {seen} is the submission time",
    },
    "collect_skipped": {
        "ko": "복사하지 않은 파일: {files} (나머지는 수집했습니다)",
        "en": "files not copied: {files} (the rest was collected)",
    },
    "collect_failed": {
        "ko": "수집하지 못했습니다 ({why}); 다른 학생은 계속 수집했습니다",
        "en": "could not be collected ({why}); the others were",
    },
    "collect_gone": {
        "ko": "교환 폴더에서 이 제출이 사라졌거나 더 이상 읽을 수 없습니다",
        "en": "this submission is no longer in the exchange, or can no longer be read",
    },
    "refused_symlink": {"ko": "심볼릭 링크", "en": "a symbolic link"},
    "refused_fifo": {"ko": "FIFO(파이프)", "en": "a FIFO (pipe)"},
    "refused_device": {"ko": "장치 파일", "en": "a device file"},
    "refused_socket": {"ko": "소켓", "en": "a socket"},
    "refused_hardlink": {"ko": "하드 링크(다른 이름이 있는 파일)", "en": "a hard link (a file with other names)"},
    "refused_too_big": {"ko": "크기 초과", "en": "too big"},
    "refused_total": {"ko": "제출 전체 크기 초과", "en": "over the submission's total size"},
    "refused_too_many": {"ko": "파일이 너무 많음", "en": "too many files"},
    "refused_too_deep": {"ko": "폴더가 너무 깊음", "en": "folders nested too deep"},
    "refused_changed": {"ko": "읽는 도중 바뀜", "en": "changed while being read"},
    "refused_unreadable": {"ko": "읽을 수 없음", "en": "unreadable"},
    "refused_file": {"ko": "파일", "en": "a file"},
    "inbound_made": {
        "ko": "학생별 inbound 폴더 {n}개를 만들었습니다 ({inbound}/<학생>/, 모두 {total}명). 허브에서 각 학생의 "
              "{inbound}/<학생> 만 그 학생의 {inbound} 로 마운트하세요 (docs/intake.md)",
        "en": "made {n} per-student inbound folders ({inbound}/<student>/, {total} students in all). On the hub, "
              "mount only {inbound}/<student> as each student's {inbound} (docs/intake.md)",
    },
    "inbound_none": {
        "ko": "학생 명단이 비어 있습니다. 해결: --student ID 로 주거나 nbgrader db student add ID",
        "en": "the roster is empty. Fix: give --student ID, or nbgrader db student add ID",
    },
    "student_config_written": {
        "ko": "학생용 nbgrader_config.py 를 썼습니다: {out} (학생의 홈 폴더 또는 작업 폴더에 두세요)",
        "en": "wrote the students' nbgrader_config.py: {out} (put it in each student's home or working folder)",
    },
    # LMS import
    "lms_not_found": {
        "ko": "{path} 가 없습니다. 해결: LMS 에서 받은 zip 파일이나 폴더의 경로를 주세요",
        "en": "{path} does not exist. Fix: give the path of the zip or folder downloaded from the LMS",
    },
    "lms_bad_zip": {
        "ko": "{path} 는 읽을 수 있는 zip 파일이 아닙니다 ({why}). 해결: LMS 에서 다시 내려받거나 압축을 푼 폴더를 주세요",
        "en": "{path} is not a readable zip file ({why}). Fix: download it again, or give the unpacked folder",
    },
    "lms_manifest_bad": {
        "ko": "{file}: {why}. 해결: 첫 줄이 student,submitted_at (선택: file) 인 CSV 로 고치거나, 이 파일을 빼세요 "
              "(그러면 zip 항목/파일 시각을 씁니다). 아무것도 가져오지 않았습니다",
        "en": "{file}: {why}. Fix: make it a CSV whose header is student,submitted_at (optionally file), "
              "or leave it out (then zip entry / file times are used). Nothing was imported",
    },
    "lms_manifest_row": {
        "ko": "{file} {row}번째 줄: 시각 {value!r} 을 읽을 수 없습니다. 해결: '2026-12-20 23:10:00+09:00' 처럼 쓰세요",
        "en": "{file} row {row}: cannot read the time {value!r}. Fix: write it like '2026-12-20 23:10:00+09:00'",
    },
    "lms_not_notebook": {
        "ko": "노트북(.ipynb)이 아닙니다: 가져오지 않았습니다",
        "en": "not a notebook (.ipynb): not imported",
    },
    "lms_no_student": {
        "ko": "'{name}' 에서 학생 id 를 찾지 못했습니다 (LMS['filename_pattern'] = {pattern!r}). "
              "해결: 파일 이름을 <학생id>_{example}.ipynb 로 바꾸거나 course_config.py 의 LMS['filename_pattern'] 을 고치세요",
        "en": "no student id in '{name}' (LMS['filename_pattern'] = {pattern!r}). "
              "Fix: rename the file to <studentid>_{example}.ipynb or change LMS['filename_pattern'] in course_config.py",
    },
    "lms_bad_id": {
        "ko": "'{student}' 는 학생 id 로 쓸 수 없습니다 (글자, 숫자, '.', '_', '-', '@' 만). 해결: 파일 이름이나 "
              "LMS['filename_pattern'] 을 고치세요",
        "en": "'{student}' cannot be a student id (letters, digits, '.', '_', '-', '@' only). "
              "Fix: correct the file name or LMS['filename_pattern']",
    },
    "lms_unknown_student": {
        "ko": "학생 '{student}' 가 gradebook 명단에 없습니다. 해결: 파일 이름의 id 를 고치거나 명단에 추가하세요 "
              "(nbgrader db student add {student})",
        "en": "student '{student}' is not on the gradebook's roster. Fix: correct the id in the file name, "
              "or add the student (nbgrader db student add {student})",
    },
    "lms_claims_other": {
        "ko": "{folder} 학생의 폴더에 있지만 이름은 {other} 학생의 것이라고 합니다: 가져오지 않았습니다 "
              "(폴더별 다운로드에서는 폴더가 학생입니다). 해결: 실제로 {folder} 학생의 제출이면 파일 이름에서 "
              "{other} 를 빼고 다시 가져오세요",
        "en": "in {folder}'s folder but named for {other}: not imported (in a per-student-folder download the "
              "folder is the student). Fix: if it really is {folder}'s work, take {other} out of the file name "
              "and import again",
    },
    "lms_which_notebook": {
        "ko": "{a} 의 어느 노트북({notebooks})인지 알 수 없습니다. 해결: 파일 이름에 노트북 이름을 넣으세요",
        "en": "cannot tell which notebook of {a} ({notebooks}) this is. Fix: put the notebook's name in the file name",
    },
    "lms_bad_notebook": {
        "ko": "올바른 노트북이 아닙니다 ({why}): 가져오지 않았습니다. 해결: 학생에게 JupyterLab 에서 .ipynb 를 다시 받아 "
              "제출하게 하세요",
        "en": "not a valid notebook ({why}): not imported. Fix: ask the student to download the .ipynb from "
              "JupyterLab again and resubmit",
    },
    "lms_too_big": {
        "ko": "{mb:.0f} MB 로 너무 큽니다 (최대 {limit} MB): 가져오지 않았습니다",
        "en": "{mb:.0f} MB is too big (at most {limit} MB): not imported",
    },
    "lms_refused": {
        "ko": "{what} 입니다: 열지 않고 가져오지 않았습니다 (일반 파일만 가져옵니다)",
        "en": "{what}: not opened, not imported (only regular files are imported)",
    },
    "lms_no_time": {
        "ko": "{file} 에 이 학생의 올바른 제출 시각이 없습니다: 가져오지 않았습니다. 해결: {file} 의 시각을 고치세요",
        "en": "{file} has no valid submission time for this student: not imported. Fix: correct the time in {file}",
    },
    "lms_duplicate": {
        "ko": "{student}/{nb}: 같은 노트북이 {n}개 있습니다. LMS 시각이 가장 늦은 {kept} ({when}) 를 가져오고 "
              "나머지는 건너뜁니다: {others}",
        "en": "{student}/{nb}: {n} uploads of the same notebook; took the one with the newest LMS time, "
              "{kept} ({when}), and skipped {others}",
    },
    "lms_kept_newer": {
        "ko": "이미 더 늦은 제출({have})이 있어 그대로 둡니다",
        "en": "a newer submission ({have}) is already there; kept it",
    },
    "lms_same_time": {
        "ko": "같은 시각({have})의 다른 노트북이 이미 있어 그대로 둡니다. 해결: 이 파일로 바꾸려면 {folder} 를 지우고 다시 가져오세요",
        "en": "a different notebook with the same time ({have}) is already there; kept it. "
              "Fix: to use this file instead, delete {folder} and import again",
    },
    "lms_summary": {
        "ko": "{a}: {source} 에서 {n}개 가져옴 (새로 {new}, 갱신 {updated}), 변화 없음 {same}, 더 새 제출 유지 {kept}, 오류 {errors}",
        "en": "{a} from {source}: {n} imported ({new} new, {updated} updated), {same} unchanged, "
              "{kept} kept a newer submission, {errors} errors",
    },
    "lms_new": {"ko": "새로", "en": "new"},
    "lms_updated": {"ko": "갱신", "en": "updated"},
    "lms_unchanged": {"ko": "변화 없음", "en": "unchanged"},
    "time_manifest": {"ko": "manifest", "en": "manifest"},
    "time_zip": {"ko": "zip 항목 시각", "en": "zip entry time"},
    "time_mtime": {"ko": "파일 수정 시각", "en": "file mtime"},
    "lms_not_in_manifest": {
        "ko": "{file} 에 없는 학생: {who} — 시각은 {source} 에서 가져왔습니다",
        "en": "students missing from {file}: {who} — their times come from the {source}",
    },
}


def say(language: str, key: str, **values) -> str:
    """A staff message in the course's language (English when a text has no Korean)."""
    return pick(STAFF, key, language, fallback="en", **values)
