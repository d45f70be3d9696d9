"""The demo's sample data: what each platform's production database and DynamoDB table hold.

Deterministic (a fixed seed and a fixed clock), so a run's figures can be computed from it
(tests/e2e/test_demo.py does). The shapes follow the catalog (datasets/*.yaml): the source
fields it declares, under the relation its `extract.from` names, plus columns it never reads
(`deleted_at`, `date_of_birth`, a learner's email in the DynamoDB items). Timestamps are naive
UTC, whole seconds.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

# The moment the demo plays: Monday 23 November 2026, 07:20 in London (GMT, so UTC too), just
# after the weekly maths report's 07:00 run. Every sample happened before it.
DEMO_NOW = datetime(2026, 11, 23, 7, 20)
# The report the demo's report server delivers (reports/<name>.yaml).
DEMO_REPORT = "maths-weekly-attainment"
_SEED = 20261123
_NAMES = uuid.UUID("6f1c1f5e-3c1b-4f7e-9d1a-2b7c6e5d4a30")

FIRST_NAMES = (
    "Amelia", "Noah", "Olivia", "Muhammad", "Isla", "George", "Ava", "Leo", "Freya", "Arthur",
    "Lily", "Oscar", "Ivy", "Harry", "Sophia", "Jack", "Mia", "Theo", "Grace", "Alfie", "Zara",
    "Jacob", "Aisha", "Oliver", "Hana", "Ethan", "Maya", "Kacper", "Elif", "Reuben",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Khan", "Jones", "Patel", "Williams", "Brown", "Taylor", "Ali", "Wilson", "Evans",
    "Thomas", "Roberts", "Hussain", "Walker", "Wright", "Nowak", "Hughes", "Green", "Ahmed",
    "Hall", "Wood", "Clarke", "Begum", "Jackson", "Turner", "Hill", "Moore", "Kaur", "Young",
)  # fmt: skip


@dataclass(frozen=True)
class SourceTable:
    """One table of a source database, its columns typed in the engine's own SQL."""

    relation: str
    columns: tuple[tuple[str, str], ...]
    rows: tuple[tuple[Any, ...], ...]
    # `<platform>/<dataset>` of the catalog whose rows these are.
    dataset: str

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns' names, in order."""
        return tuple(name for name, _ in self.columns)

    def values(self, column: str) -> list[Any]:
        """Every row's value of `column`."""
        index = self.column_names.index(column)
        return [row[index] for row in self.rows]


@dataclass(frozen=True)
class SourceDatabase:
    """A platform's production database, as its read replica serves it."""

    platform: str
    # The replica's name in the spoke's stack file (`platform.databases[].name`).
    replica: str
    tables: tuple[SourceTable, ...]

    def table(self, dataset: str) -> SourceTable:
        """The table holding `dataset`'s rows."""
        return next(table for table in self.tables if table.dataset == dataset)


@dataclass(frozen=True)
class ItemChange:
    """One write of the platform's application to its DynamoDB table."""

    # "put" (a new item), "update" (an existing one) or "delete".
    operation: str
    # The item (put), the new values (update) or the key (delete), in DynamoDB's JSON.
    item: dict[str, dict[str, str]]


@dataclass(frozen=True)
class HandUpload:
    """A file a person drops into the landing bucket by hand."""

    dataset: str
    file_name: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Samples:
    databases: tuple[SourceDatabase, ...]
    lesson_changes: tuple[ItemChange, ...]
    # A teacher's spreadsheet with a value that is not a number: quarantined.
    bad_upload: HandUpload

    def database(self, platform: str) -> SourceDatabase:
        """The platform's database."""
        return next(database for database in self.databases if database.platform == platform)

    def table(self, dataset: str) -> SourceTable:
        """The table holding `dataset`'s rows (`<platform>/<dataset>`)."""
        return self.database(dataset.split("/", 1)[0]).table(dataset)


@cache
def samples() -> Samples:
    """The sample data (the same on every call and every run)."""
    rng = random.Random(_SEED)
    schools = _schools()
    pupils = _pupils(rng, schools)
    return Samples(
        databases=(
            SourceDatabase(
                "maths",
                "homework",
                (
                    schools,
                    pupils,
                    _assessments(rng, pupils),
                    _staff(rng, schools),
                ),
            ),
            _reading(rng, schools),
            _science(rng, schools, pupils),
            SourceDatabase("languages", "courses", (_learners(rng, schools),)),
        ),
        lesson_changes=_lesson_changes(rng),
        bad_upload=_bad_upload(rng, pupils),
    )


def _schools() -> SourceTable:
    rows = (
        (1, "107741", "Ash Grove Primary School", "Leeds", "primary", date(2024, 9, 2)),
        (2, "107802", "Beacon Hill Academy", "Leeds", "secondary", date(2023, 9, 4)),
        (3, "139320", "Castle View School", "Bradford", "secondary", date(2025, 1, 6)),
        (4, "121455", "Dale Park Primary", "York", "primary", date(2024, 9, 2)),
        (5, "144871", "Elm Tree Academy", "Sheffield", "secondary", date(2025, 9, 1)),
        (6, "106233", "Fernhill CofE Primary", "Sheffield", "primary", None),
    )
    columns = (
        ("school_id", "bigint"),
        ("urn", "varchar(10)"),
        ("name", "varchar(200)"),
        ("local_authority", "varchar(100)"),
        ("phase", "varchar(20)"),
        ("subscribed_on", "date"),
    )
    return SourceTable("public.schools", columns, rows, "maths/schools")


def _pupils(rng: random.Random, schools: SourceTable) -> SourceTable:
    rows = []
    pupil_id = 1000
    for school_id, phase in zip(schools.values("school_id"), schools.values("phase"), strict=True):
        years = (4, 5, 6) if phase == "primary" else (7, 8, 9)
        for _ in range(28):
            pupil_id += 1
            enrolled = datetime(2025, 9, 1, 8) + timedelta(minutes=rng.randrange(60 * 24 * 5))
            rows.append(
                (
                    pupil_id,
                    school_id,
                    rng.choice(years),
                    rng.choice(FIRST_NAMES),
                    rng.choice(LAST_NAMES),
                    enrolled,
                )
            )
    columns = (
        ("pupil_id", "bigint"),
        ("school_id", "bigint"),
        ("year_group", "integer"),
        ("first_name", "varchar(100)"),
        ("last_name", "varchar(100)"),
        ("enrolled_at", "timestamp(6)"),
    )
    return SourceTable("public.pupils", columns, tuple(rows), "maths/pupils")


# Homework assessments set over the three weeks before the demo's Monday: (id, topic, set at).
ASSESSMENTS = (
    (501, "place value", datetime(2026, 11, 2, 9)),
    (502, "fractions", datetime(2026, 11, 4, 9)),
    (503, "algebra", datetime(2026, 11, 6, 9)),
    (504, "fractions", datetime(2026, 11, 9, 9)),
    (505, "ratio and proportion", datetime(2026, 11, 11, 9)),
    (506, "geometry", datetime(2026, 11, 13, 9)),
    (507, "statistics", datetime(2026, 11, 16, 9)),
    (508, "algebra", datetime(2026, 11, 18, 9)),
    (509, "fractions", datetime(2026, 11, 20, 9)),
)
PASS_MARK = Decimal("12.00")


def _assessments(rng: random.Random, pupils: SourceTable) -> SourceTable:
    rows = []
    for assessment_id, topic, set_at in ASSESSMENTS:
        for pupil_id in pupils.values("pupil_id"):
            if rng.random() < 0.2:
                continue
            completed = set_at + timedelta(minutes=rng.randrange(30, 60 * 24 * 4))
            # Half marks out of 20, most between 10 and 18.
            score = Decimal(round(rng.triangular(2, 20, 15) * 2)) / 2
            if completed >= DEMO_NOW:
                # Started, not handed in yet.
                rows.append((assessment_id, pupil_id, topic, None, Decimal("20.00"), None, None))
                continue
            rows.append(
                (
                    assessment_id,
                    pupil_id,
                    topic,
                    score.quantize(Decimal("0.01")),
                    Decimal("20.00"),
                    score >= PASS_MARK,
                    completed,
                )
            )
    columns = (
        ("assessment_id", "bigint"),
        ("pupil_id", "bigint"),
        ("topic", "varchar(100)"),
        ("score", "numeric(5,2)"),
        ("max_score", "numeric(5,2)"),
        ("passed", "boolean"),
        ("completed_at", "timestamp(6)"),
    )
    return SourceTable("public.assessment_results", columns, tuple(rows), "maths/assessments")


STAFF_ROLES = ("head of maths", "teacher", "teacher", "teacher", "teaching assistant")


def _staff(rng: random.Random, schools: SourceTable) -> SourceTable:
    rows = []
    staff_id = 0
    for school_id, name in zip(schools.values("school_id"), schools.values("name"), strict=True):
        domain = name.lower().replace(" ", "-") + ".sch.example"
        for role in STAFF_ROLES:
            staff_id += 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            updated = datetime(2026, 9, 1, 7) + timedelta(minutes=rng.randrange(60 * 24 * 80))
            # Two left this term: soft-deleted, which the catalog's `where` keeps out.
            left = updated + timedelta(days=3) if staff_id in (4, 17) else None
            rows.append(
                (
                    staff_id,
                    school_id,
                    f"{first}.{last}{staff_id}@{domain}".lower(),
                    role,
                    updated,
                    left,
                    date(1970 + rng.randrange(30), rng.randrange(1, 13), rng.randrange(1, 29)),
                )
            )
    columns = (
        ("id", "bigint"),
        ("school_id", "bigint"),
        ("email", "text"),
        ("role", "varchar(40)"),
        ("updated_at", "timestamptz(6)"),
        ("deleted_at", "timestamptz(6)"),
        ("date_of_birth", "date"),
    )
    return SourceTable("public.staff", columns, tuple(rows), "maths/staff")


def _reading(rng: random.Random, schools: SourceTable) -> SourceDatabase:
    readers, progress, quizzes = [], [], []
    pages = {book_id: rng.randrange(60, 320) for book_id in range(9001, 9081)}
    for reader_id in range(5001, 5121):
        created = datetime(2025, 9, 8, 8) + timedelta(minutes=rng.randrange(60 * 24 * 60))
        readers.append(
            (
                reader_id,
                rng.choice(schools.values("school_id")),
                f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)[0]}.",
                Decimal(rng.randrange(60, 140)) / 10,
                created,
            )
        )
        for book_id in rng.sample(sorted(pages), rng.randrange(1, 6)):
            read = rng.randrange(10, pages[book_id] + 1)
            finished = read == pages[book_id] or rng.random() < 0.45
            read = pages[book_id] if finished else read
            updated = DEMO_NOW - timedelta(minutes=rng.randrange(10, 60 * 24 * 21))
            progress.append((reader_id, book_id, read, finished, updated))
            if finished:
                attempt = uuid.uuid5(_NAMES, f"{reader_id}/{book_id}")
                total = 10
                taken = updated + timedelta(minutes=rng.randrange(5, 600))
                if taken < DEMO_NOW:
                    quizzes.append(
                        (
                            str(attempt),
                            reader_id,
                            book_id,
                            rng.randrange(3, total + 1),
                            total,
                            taken,
                        )
                    )
    return SourceDatabase(
        "reading",
        "library",
        (
            SourceTable(
                "readers",
                (
                    ("reader_id", "bigint"),
                    ("school_id", "bigint"),
                    ("display_name", "varchar(100)"),
                    ("reading_age", "decimal(4,1)"),
                    ("created_at", "datetime(6)"),
                ),
                tuple(readers),
                "reading/readers",
            ),
            SourceTable(
                "book_progress",
                (
                    ("reader_id", "bigint"),
                    ("book_id", "bigint"),
                    ("pages_read", "int"),
                    ("finished", "boolean"),
                    ("updated_at", "datetime(6)"),
                ),
                tuple(progress),
                "reading/book_progress",
            ),
            SourceTable(
                "quiz_events",
                (
                    ("attemptId", "char(36)"),
                    ("readerId", "bigint"),
                    ("bookId", "bigint"),
                    ("correctAnswers", "int"),
                    ("totalQuestions", "int"),
                    ("finishedAt", "datetime(6)"),
                ),
                tuple(quizzes),
                "reading/quiz_attempts",
            ),
        ),
    )


EXPERIMENTS = ("PHY-03", "PHY-07", "CHEM-02", "CHEM-11", "BIO-04", "BIO-09")


def _science(rng: random.Random, schools: SourceTable, pupils: SourceTable) -> SourceDatabase:
    subscriptions = []
    for number, (school_id, phase) in enumerate(
        zip(schools.values("school_id"), schools.values("phase"), strict=True)
    ):
        seats = rng.randrange(60, 400, 10)
        ends = None if number % 3 == 2 else date(2027, 8, 31)
        subscriptions.append(
            (
                300 + school_id,
                school_id,
                "KS2-EXPLORE" if phase == "primary" else "KS3-LABS",
                seats,
                (Decimal(seats) * Decimal("4.50")).quantize(Decimal("0.01")),
                date(2026, 9, 1),
                ends,
            )
        )
    results = []
    result_id = 70000
    for pupil_id in pupils.values("pupil_id"):
        for code in rng.sample(EXPERIMENTS, rng.randrange(1, 4)):
            result_id += 1
            submitted = DEMO_NOW - timedelta(minutes=rng.randrange(30, 60 * 24 * 28))
            score = Decimal(rng.randrange(2000, 10001)) / 100
            results.append((result_id, pupil_id, code, score, submitted))
    return SourceDatabase(
        "science",
        "assessments",
        (
            SourceTable(
                "dbo.Subscriptions",
                (
                    ("SubscriptionId", "int"),
                    ("SchoolId", "int"),
                    ("ProductCode", "nvarchar(50)"),
                    ("Seats", "int"),
                    ("PriceGbp", "decimal(10,2)"),
                    ("StartDate", "date"),
                    ("EndDate", "date"),
                ),
                tuple(subscriptions),
                "science/subscriptions",
            ),
            SourceTable(
                "dbo.ExperimentResults",
                (
                    ("ResultId", "int"),
                    ("PupilId", "int"),
                    ("ExperimentCode", "nvarchar(20)"),
                    ("Score", "decimal(5,2)"),
                    ("SubmittedAt", "datetime2(6)"),
                ),
                tuple(results),
                "science/experiment_results",
            ),
        ),
    )


LANGUAGES = ("English", "Polish", "Urdu", "Punjabi", "Romanian", "Arabic")
TARGETS = {"es": "Spanish", "fr": "French", "de": "German", "it": "Italian"}


def _learners(rng: random.Random, schools: SourceTable) -> SourceTable:
    rows = []
    for learner_id in range(1, 91):
        joined = datetime(2026, 9, 7, 8) + timedelta(minutes=rng.randrange(60 * 24 * 50))
        native = rng.choice(LANGUAGES) if rng.random() < 0.9 else None
        school = rng.choice(schools.values("school_id")) if rng.random() < 0.95 else None
        rows.append((learner_id, school, native, TARGETS[_course(learner_id)], joined))
    columns = (
        ("learner_id", "bigint"),
        ("school_id", "bigint"),
        ("native_language", "varchar(35)"),
        ("target_language", "varchar(35)"),
        ("joined_at", "datetime(6)"),
    )
    return SourceTable("learners", columns, tuple(rows), "languages/learners")


def _course(learner_id: int) -> str:
    return tuple(TARGETS)[learner_id % len(TARGETS)]


def _lesson_changes(rng: random.Random) -> tuple[ItemChange, ...]:
    """The practice app's writes: lessons completed, some practised again (updated), a few
    reset (deleted). Each item also holds attributes the catalog does not declare."""
    changes = []
    items: dict[tuple[int, str], dict[str, Any]] = {}
    for learner_id in range(1, 91):
        course = _course(learner_id)
        for lesson in range(1, rng.randrange(2, 5)):
            completed = DEMO_NOW - timedelta(minutes=rng.randrange(60, 60 * 24 * 14))
            item = {
                "learnerId": {"N": str(learner_id)},
                "lessonId": {"S": f"{course}-a1-{lesson:02d}"},
                "xp": {"N": str(rng.randrange(10, 60))},
                "streakDays": {"N": str(rng.randrange(1, 12))},
                "completedAt": {"S": f"{completed.isoformat()}Z"},
                "email": {"S": f"learner{learner_id}@pupils.example"},
                "device": {"M": {"os": {"S": rng.choice(("ios", "android"))}}},
            }
            items[(learner_id, item["lessonId"]["S"])] = item
            changes.append(ItemChange("put", item))
    keys = sorted(items)
    for learner_id, lesson_id in rng.sample(keys, 40):
        xp = int(items[(learner_id, lesson_id)]["xp"]["N"]) + rng.randrange(5, 30)
        changes.append(
            ItemChange(
                "update",
                {
                    "learnerId": {"N": str(learner_id)},
                    "lessonId": {"S": lesson_id},
                    "xp": {"N": str(xp)},
                    "streakDays": {"N": str(rng.randrange(2, 20))},
                },
            )
        )
    for learner_id, lesson_id in rng.sample(keys, 8):
        changes.append(
            ItemChange(
                "delete", {"learnerId": {"N": str(learner_id)}, "lessonId": {"S": lesson_id}}
            )
        )
    return tuple(changes)


def _bad_upload(rng: random.Random, pupils: SourceTable) -> HandUpload:
    """A teacher's export of a practical lesson, typed by hand: one score is a word."""
    header = ("ResultId", "PupilId", "ExperimentCode", "Score", "SubmittedAt")
    rows = []
    for number, pupil_id in enumerate(rng.sample(pupils.values("pupil_id"), 6)):
        score = "absent" if number == 3 else str(Decimal(rng.randrange(4000, 9500)) / 100)
        submitted = datetime(2026, 11, 20, 14, 5 + number)
        rows.append((str(80001 + number), str(pupil_id), "PHY-07", score, str(submitted)))
    return HandUpload(
        "science/experiment_results",
        "year9-pendulum-practical.csv",
        header,
        tuple(rows),
    )
