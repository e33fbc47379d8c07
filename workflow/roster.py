"""Roster import: the staff lists HR keeps in Excel (.xlsx) or CSV, matched on the person code.

    preview(...)  -> what each row would do (new / updated / unchanged, with the changed fields)
                     and every problem, by row number (as the spreadsheet shows it), column and
                     rule, in Thai and English;
    apply(...)    -> imports, in one transaction, only when the whole file is clean.

Re-importing the same file changes nothing; a changed row updates the person with that code
(never a second person). Evaluator and superior codes may name people in the file or already
in the database. Columns (Thai or English headings): code, name_th, position, position_level,
staff_type, unit (code), evaluator (code), superior (code), email, salary (baht; an empty cell keeps
the salary on record).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any, Callable, Iterator

from sqlalchemy import func, select
from sqlmodel import Session

from db.models import Event, OrgUnit, Person
from workflow import audit, orgs
from workflow.access import Actor
from workflow.errors import InvalidInput, NotAllowed, Problem

REQUIRED = ("code", "name_th", "staff_type", "unit")
HEADINGS = {
    "code": ("code", "person code", "person_code", "รหัส", "รหัสบุคลากร", "เลขประจำตัว"),
    "name_th": ("name_th", "name", "ชื่อ", "ชื่อ-สกุล", "ชื่อ-นามสกุล"),
    "position": ("position", "ตำแหน่ง"),
    "position_level": ("position_level", "level", "ระดับ", "ระดับตำแหน่ง"),
    "staff_type": ("staff_type", "staff type", "ประเภท", "ประเภทบุคลากร"),
    "unit": ("unit", "unit code", "unit_code", "หน่วยงาน", "รหัสหน่วยงาน"),
    "evaluator": ("evaluator", "evaluator code", "evaluator_code", "ผู้ประเมิน", "รหัสผู้ประเมิน"),
    "superior": ("superior", "superior code", "superior_code", "ผู้บังคับบัญชาเหนือขึ้นไป", "รหัสผู้บังคับบัญชาเหนือขึ้นไป"),
    "email": ("email", "e-mail", "อีเมล"),
    "salary": ("salary", "เงินเดือน", "อัตราเงินเดือน"),
}
STAFF_TYPES = {"civil_servant": "civil_servant", "permanent_employee": "permanent_employee",
               "government_employee": "government_employee", "ข้าราชการ": "civil_servant",
               "ลูกจ้างประจำ": "permanent_employee", "พนักงานราชการ": "government_employee"}
CODE = re.compile(r"^[A-Za-z0-9._/-]{1,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ROWS = 200_000
FIELDS = ("name_th", "position", "position_level", "staff_type", "org_unit_id", "evaluator_id", "superior_id",
          "email", "salary")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    th: str
    en: str

    def problem(self) -> Problem:
        return Problem(f"row {self.row}.{self.column}", f"แถวที่ {self.row} คอลัมน์ {self.column}: {self.th}",
                       f"row {self.row}, column {self.column}: {self.en}")


@dataclass
class RowPlan:
    row: int
    code: str
    action: str  # new | updated | unchanged
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (before, after)


@dataclass
class Plan:
    org_code: str
    rows: list[RowPlan]
    problems: list[RowProblem]

    @property
    def clean(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        out = {"new": 0, "updated": 0, "unchanged": 0}
        for r in self.rows:
            out[r.action] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"org_code": self.org_code, "clean": self.clean, "counts": self.counts(),
                "rows": [{"row": r.row, "code": r.code, "action": r.action,
                          "changes": {k: {"before": b, "after": a} for k, (b, a) in r.changes.items()}}
                         for r in self.rows],
                "problems": [p.__dict__ for p in self.problems]}


# --- reading the file ----------------------------------------------------------------------------
def read_rows(filename: str, content: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """The header row and the data rows (numbered as the spreadsheet shows them) of a file."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several types for a damaged file
            raise InvalidInput([Problem("file", f"เปิดไฟล์ Excel ไม่ได้: {exc}", f"cannot open the Excel file: {exc}")]) from None
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None) or ()
        return [_text(h) for h in header], ((n, list(r)) for n, r in enumerate(rows, start=2))
    if suffix == ".csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput([Problem("file", "ไฟล์ CSV ต้องเข้ารหัส UTF-8", "a CSV file must be UTF-8")]) from None
        reader = csv.reader(io.StringIO(text))
        header = next(reader, [])
        return [h.strip() for h in header], ((n, list(r)) for n, r in enumerate(reader, start=2))
    raise InvalidInput([Problem("file", "รองรับเฉพาะไฟล์ .xlsx หรือ .csv", "only .xlsx or .csv files")])


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _columns(header: list[str]) -> tuple[dict[str, int], list[RowProblem]]:
    index: dict[str, int] = {}
    lookup = {alias.lower(): key for key, aliases in HEADINGS.items() for alias in aliases}
    for i, h in enumerate(header):
        key = lookup.get(h.lower())
        if key and key not in index:
            index[key] = i
    missing = [c for c in REQUIRED if c not in index]
    problems = [RowProblem(1, c, "ไม่มีคอลัมน์ที่ต้องมี", "a required column is missing") for c in missing]
    return index, problems


# --- planning ------------------------------------------------------------------------------------
def _scope(session: Session, actor: Actor, org_code: str) -> OrgUnit:
    org = orgs.by_code(session, org_code)
    if not (actor.is_system or actor.is_admin or actor.has_scope("hr", org.path)):
        raise NotAllowed("import people", frozenset())
    return org


def plan(session: Session, actor: Actor, *, org_code: str, filename: str, content: bytes,
         progress: Progress | None = None) -> Plan:
    """What importing this file would do, and every problem in it. Writes nothing."""
    org = _scope(session, actor, org_code)
    header, rows = read_rows(filename, content)
    index, problems = _columns(header)
    if problems:
        return Plan(org.code, [], problems)
    records: list[tuple[int, dict[str, str]]] = []
    for n, values in rows:
        if len(records) >= MAX_ROWS:
            problems.append(RowProblem(n, "-", f"เกิน {MAX_ROWS} แถว", f"more than {MAX_ROWS} rows"))
            break
        rec = {c: _text(values[i]) if i < len(values) else "" for c, i in index.items()}
        if any(rec.values()):
            records.append((n, rec))
    units = {u.code: u for u in orgs.subtree(session, org)}
    codes_in_file: dict[str, int] = {}
    for n, rec in records:
        code = rec["code"]
        if code in codes_in_file:
            problems.append(RowProblem(n, "code", f"รหัสซ้ำกับแถวที่ {codes_in_file[code]}",
                                       f"the same code as row {codes_in_file[code]}"))
        else:
            codes_in_file[code] = n
    wanted = set(codes_in_file) | {rec.get(c, "") for _, rec in records for c in ("evaluator", "superior")}
    existing = _people_by_code(session, {c for c in wanted if c})
    out: list[RowPlan] = []
    for done, (n, rec) in enumerate(records, start=1):
        problems += _check(n, rec, units, codes_in_file, existing)
        person = existing.get(rec["code"])
        after = _values(rec, units, existing)
        if person is None:
            out.append(RowPlan(n, rec["code"], "new"))
        else:
            changes = {f: (_plain(getattr(person, f)), _plain(after[f])) for f in FIELDS
                       if f in after and after[f] is not _LATER and _plain(getattr(person, f)) != _plain(after[f])}
            for f in ("evaluator_id", "superior_id"):  # a code of someone new in this file
                if after.get(f) is _LATER:
                    changes[f] = (_plain(getattr(person, f)), rec["evaluator" if f == "evaluator_id" else "superior"])
            out.append(RowPlan(n, rec["code"], "updated" if changes else "unchanged", changes))
        if progress and (done % 500 == 0 or done == len(records)):
            progress(done, len(records))
    if not records and not problems:
        problems.append(RowProblem(2, "-", "ไม่มีข้อมูล", "the file has no rows"))
    return Plan(org.code, out, problems)


_LATER = object()  # the id of someone created by this import


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, str)) else str(value)


def _values(rec: dict[str, str], units: dict[str, OrgUnit], existing: dict[str, Person]) -> dict[str, Any]:
    out: dict[str, Any] = {"name_th": rec["name_th"], "staff_type": STAFF_TYPES.get(rec["staff_type"], rec["staff_type"]),
                           "org_unit_id": units[rec["unit"]].id if rec["unit"] in units else None}
    for key in ("position", "position_level", "email"):
        if key in rec:
            out[key] = rec[key]
    if "salary" in rec:  # kept as it was when the cell is empty: a roster without pay data
        salary = _salary(rec["salary"])
        if salary is not None:
            out["salary"] = salary
    for col, f in (("evaluator", "evaluator_id"), ("superior", "superior_id")):
        if col in rec:
            code = rec[col]
            out[f] = None if not code else (existing[code].id if code in existing else _LATER)
    return out


def _salary(text: str) -> Decimal | None:
    """A salary cell: baht, with or without thousands separators; None if empty or not a sum."""
    try:
        value = Decimal(text.replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return value.quantize(Decimal("0.01")) if value.is_finite() and 0 <= value < 10**10 else None


def _check(n: int, rec: dict[str, str], units: dict[str, OrgUnit], in_file: dict[str, int],
           existing: dict[str, Person]) -> list[RowProblem]:
    p: list[RowProblem] = []
    if rec.get("salary") and _salary(rec["salary"]) is None:
        p.append(RowProblem(n, "salary", "เงินเดือนต้องเป็นจำนวนเงินบาท 0 ขึ้นไป เช่น 25,000",
                            "a salary is an amount in baht, 0 or more, e.g. 25,000"))
    for c in REQUIRED:
        if not rec.get(c):
            p.append(RowProblem(n, c, "ต้องกรอก", "required"))
    code = rec.get("code", "")
    if code and not CODE.match(code):
        p.append(RowProblem(n, "code", "รหัสใช้ได้เฉพาะ A-Z a-z 0-9 . _ / - ไม่เกิน 64 ตัว",
                            "a code is 1-64 of A-Z a-z 0-9 . _ / -"))
    if len(rec.get("name_th", "")) > 300:
        p.append(RowProblem(n, "name_th", "ยาวเกิน 300 ตัวอักษร", "longer than 300 characters"))
    if rec.get("staff_type") and rec["staff_type"] not in STAFF_TYPES:
        p.append(RowProblem(n, "staff_type", "ประเภทต้องเป็น ข้าราชการ ลูกจ้างประจำ หรือ พนักงานราชการ",
                            "staff type must be civil_servant, permanent_employee or government_employee"))
    if rec.get("unit") and rec["unit"] not in units:
        p.append(RowProblem(n, "unit", "ไม่พบหน่วยงานนี้ในองค์กรที่นำเข้า",
                            "no such unit in the organisation being imported"))
    for col in ("evaluator", "superior"):
        ref = rec.get(col, "")
        if ref and ref == code:
            p.append(RowProblem(n, col, "ประเมินตนเองไม่ได้", "a person cannot be their own evaluator or superior"))
        elif ref and ref not in in_file and ref not in existing:
            p.append(RowProblem(n, col, "ไม่พบรหัสบุคคลนี้ทั้งในไฟล์และในระบบ",
                                "no person with this code in the file or the system"))
    if rec.get("email") and not EMAIL.match(rec["email"]):
        p.append(RowProblem(n, "email", "อีเมลไม่ถูกต้อง", "not a valid email address"))
    return p


def _people_by_code(session: Session, codes: set[str]) -> dict[str, Person]:
    out: dict[str, Person] = {}
    ordered = sorted(codes)
    for i in range(0, len(ordered), 5000):
        for p in session.execute(select(Person).where(Person.code.in_(ordered[i:i + 5000]))).scalars():
            out[p.code] = p
    return out


# --- applying ------------------------------------------------------------------------------------
@dataclass
class Imported:
    org_code: str
    counts: dict[str, int]


def apply(session: Session, actor: Actor, *, org_code: str, filename: str, content: bytes,
          progress: Progress | None = None) -> Imported:
    """Import the file if, and only if, it is clean; one transaction, one audit event."""
    try:
        result = _apply(session, actor, org_code, filename, content, progress)
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise


def _apply(session: Session, actor: Actor, org_code: str, filename: str, content: bytes,
           progress: Progress | None) -> Imported:
    p = plan(session, actor, org_code=org_code, filename=filename, content=content)
    if not p.clean:
        raise InvalidInput([x.problem() for x in p.problems])
    org = orgs.by_code(session, org_code)
    units = {u.code: u for u in orgs.subtree(session, org)}
    header, rows = read_rows(filename, content)
    index, _ = _columns(header)
    records = [(n, {c: _text(v[i]) if i < len(v) else "" for c, i in index.items()}) for n, v in rows]
    records = [(n, r) for n, r in records if any(r.values())]
    wanted = {r["code"] for _, r in records} | {r.get(c, "") for _, r in records for c in ("evaluator", "superior")}
    people = _people_by_code(session, {c for c in wanted if c})
    # Pass 1: every person exists with their own fields; pass 2: evaluator and superior links.
    for done, (n, rec) in enumerate(records, start=1):
        values = {k: v for k, v in _values(rec, units, people).items() if k not in ("evaluator_id", "superior_id")}
        person = people.get(rec["code"])
        if person is None:
            person = Person(code=rec["code"], **values)
            people[rec["code"]] = person
        else:
            for k, v in values.items():
                setattr(person, k, v)
        session.add(person)
        if progress and (done % 500 == 0 or done == len(records)):
            progress(done, 2 * len(records))
    session.flush()
    for done, (n, rec) in enumerate(records, start=1):
        person = people[rec["code"]]
        for col, f in (("evaluator", "evaluator_id"), ("superior", "superior_id")):
            if col in rec:
                setattr(person, f, people[rec[col]].id if rec[col] else None)
        session.add(person)
        if progress and (done % 500 == 0 or done == len(records)):
            progress(len(records) + done, 2 * len(records))
    session.flush()
    counts = p.counts()
    seq = (session.execute(select(func.max(Event.seq)).where(Event.entity_type == "roster",
                                                            Event.entity_id == org.id)).scalar() or 0) + 1
    audit.append(session, entity_type="roster", entity_id=org.id, seq=seq, event="import_people",
                 from_state=None, to_state=None, actor_account_id=actor.account_id, actor=actor.name,
                 payload={"file": PurePath(filename).name, "counts": counts,
                          "updated": {r.code: sorted(r.changes) for r in p.rows if r.action == "updated"}})
    return Imported(org.code, counts)
