"""Order import throughput against an executemany ceiling, on SQLite and PostgreSQL.

Generates (fixed seed) --orders orders with 2.5 items each and one shipment
event per order (spread over the shipped orders' parcels) as CSV files, then,
for each database, in a worker process of its own:

- product: `kefu import orders`, `items`, `shipments` (call_command, as the CLI
  runs it: read, check every row, upsert in batches), into a fresh database;
- ceiling: the same rows, already parsed and adapted into tuples, inserted with
  `cursor.executemany` into the same tables (same indexes) of another fresh
  database, one transaction per kind, as the import commits.

SQLite is the embedded default (a file, WAL); PostgreSQL is a throwaway server
from /usr/lib/postgresql/*/bin started here (as user `postgres` when root,
fsync=off for both product and ceiling) and stopped at the end. Rows = orders +
items + tracking events. The last stdout line is one JSON object.

    .venv/bin/python bench/import_bench.py [--orders 100000] [--seed 7] [--check]

Target (issue 6): both `ratio_to_ceiling_*` ≥ 1/3; `--check` exits 1 below it."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import pwd
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_RATIO = 1 / 3
KINDS = ("orders", "items", "shipments")

ORDER_HEADER = (
    "order_id,buyer_account,status,total,paid_amount,ordered_at,paid_at,ship_by,shipped_at,"
    "delivered_at,receiver_name,receiver_phone,receiver_address,invoice_type,invoice_title,"
    "invoice_tax_id,note,updated_at"
).split(",")
ITEM_HEADER = (
    "order_id,item_id,product_id,name,spec,category,flags,quantity,unit_price,paid_amount,updated_at"
).split(",")
SHIPMENT_HEADER = (
    "order_id,courier,tracking_number,shipped_at,delivered_at,event_time,event_status,"
    "event_location,event_description,updated_at"
).split(",")

PRODUCTS = [
    ("四件套", "家纺", ""),
    ("蜂蜜", "食品", "food"),
    ("定制T恤", "服装", "custom_made"),
    ("内衣", "服装", "hygiene"),
    ("充值卡", "数码", "digital"),
    ("车厘子", "生鲜", "fresh,food"),
    ("枕头", "家纺", ""),
    ("毛巾", "家纺", ""),
]
CITIES = ["杭州", "上海", "北京", "广州", "深圳", "成都", "武汉", "西安"]
COURIERS = ["SF", "YTO", "ZTO", "STO", "YUNDA", "JD"]
EVENTS = [("collected", "已揽收"), ("in_transit", "运输中"), ("delivering", "派送中"),
          ("delivered", "已签收")]  # fmt: skip
STATUSES = ["pending_payment", "paid", "shipped", "delivered", "completed", "cancelled"]
STATUS_WEIGHTS = [5, 15, 25, 20, 30, 5]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- data --------------------------------------------------------------------------------


def generate(directory: Path, orders: int, seed: int) -> dict[str, int]:
    """Write orders.csv, items.csv, shipments.csv; returns the row counts."""
    rng = random.Random(seed)
    start = dt.datetime(2024, 3, 1, 8, 0)
    counts = {"orders": 0, "items": 0, "shipments": 0}
    shipped: list[tuple[str, dt.datetime]] = []
    with (
        open(directory / "orders.csv", "w", newline="", encoding="utf-8") as order_file,
        open(directory / "items.csv", "w", newline="", encoding="utf-8") as item_file,
    ):
        order_writer = csv.writer(order_file)
        item_writer = csv.writer(item_file)
        order_writer.writerow(ORDER_HEADER)
        item_writer.writerow(ITEM_HEADER)
        for n in range(orders):
            order_id = f"T{2024000000 + n}"
            ordered = start + dt.timedelta(seconds=n * 37 + rng.randrange(30))
            status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
            paid = ordered + dt.timedelta(minutes=rng.randrange(1, 60))
            is_paid = status not in ("pending_payment", "cancelled")
            is_shipped = status in ("shipped", "delivered", "completed")
            shipped_at = paid + dt.timedelta(hours=rng.randrange(2, 70)) if is_shipped else None
            delivered = (
                shipped_at + dt.timedelta(hours=rng.randrange(20, 90))
                if shipped_at and status != "shipped"
                else None
            )
            updated = delivered or shipped_at or (paid if is_paid else ordered)
            count = 3 if n % 2 == 0 else 2  # 2.5 items per order on average
            total = 0
            for i in range(count):
                number = rng.randrange(500)
                product = f"P{number:04d}"
                name, category, flags = PRODUCTS[number % len(PRODUCTS)]
                quantity = rng.randint(1, 3)
                price = rng.randrange(990, 29900)  # fen
                total += quantity * price
                item_writer.writerow(
                    [order_id, f"{order_id}-{i + 1}", product, name, f"规格{rng.randrange(9)}",
                     category, flags, quantity, f"{price / 100:.2f}",
                     f"{quantity * price / 100:.2f}", updated.isoformat(sep=" ")]
                )  # fmt: skip
                counts["items"] += 1
            order_writer.writerow(
                [order_id, f"tb_{rng.randrange(60000):05d}", status, f"{total / 100:.2f}",
                 f"{total / 100:.2f}" if is_paid else "0.00", ordered.isoformat(sep=" "),
                 paid.isoformat(sep=" ") if is_paid else "",
                 (paid + dt.timedelta(hours=48)).isoformat(sep=" ") if is_paid else "",
                 shipped_at.isoformat(sep=" ") if shipped_at else "",
                 delivered.isoformat(sep=" ") if delivered else "",
                 f"收件人{rng.randrange(1000)}", f"138{rng.randrange(10**8):08d}",
                 f"浙江省{CITIES[rng.randrange(len(CITIES))]}市某路{rng.randrange(999)}号",
                 "电子普通发票" if n % 5 == 0 else "", "个人" if n % 5 == 0 else "", "", "",
                 updated.isoformat(sep=" ")]
            )  # fmt: skip
            counts["orders"] += 1
            if shipped_at:
                shipped.append((order_id, shipped_at))
    # One event per order in all, spread over the shipped orders' parcels.
    events_total = orders
    with open(directory / "shipments.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(SHIPMENT_HEADER)
        per_parcel, extra = divmod(events_total, len(shipped))
        for index, (order_id, shipped_at) in enumerate(shipped):
            courier = COURIERS[index % len(COURIERS)]
            number = f"{courier}{7000000000 + index}"
            for e in range(per_parcel + (1 if index < extra else 0)):
                status, description = EVENTS[min(e, len(EVENTS) - 1)]
                event_time = shipped_at + dt.timedelta(hours=6 * e, minutes=e)
                writer.writerow(
                    [order_id, courier, number, shipped_at.isoformat(sep=" "), "",
                     event_time.isoformat(sep=" "), status if e < len(EVENTS) else f"{status}_{e}",
                     CITIES[(index + e) % len(CITIES)], description, event_time.isoformat(sep=" ")]
                )  # fmt: skip
                counts["shipments"] += 1
    return counts


# --- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    """A throwaway server; as root, its tools run as `postgres`."""

    def __init__(self, base: Path) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name)
        if not bins:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = bins[-1]
        self.dir = base / "pg"
        self.dir.mkdir()
        self.as_pg: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            os.chmod(base, 0o755)
            self.as_pg = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.started = False

    def run(self, *args: str) -> None:
        subprocess.run([*self.as_pg, *args], check=True, stdout=subprocess.DEVNULL, cwd=self.dir)

    def start(self) -> None:
        data = str(self.dir / "data")
        self.run(str(self.bin / "initdb"), "-D", data, "-A", "trust", "-U", "kefu", "-E", "UTF8")
        self.run(
            str(self.bin / "pg_ctl"), "-D", data, "-l", str(self.dir / "log"), "-w", "start",
            "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
        )  # fmt: skip
        self.started = True

    def create(self, name: str) -> str:
        subprocess.run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "kefu",
             name], check=True,
        )  # fmt: skip
        return f"postgres://kefu@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.started:
            self.run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "stop")
            self.started = False


# --- the worker (one database, one process) ----------------------------------------------


def worker(mode: str, database_url: str, data: Path, profile: Path | None = None) -> None:
    os.environ["KEFU_DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings.dev")
    # As in production: no DEBUG query log (it re-quotes every parameter of
    # every query, for the import and the ceiling alike).
    os.environ.setdefault("KEFU_DEBUG", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from kefu.accounts.models import Shop

    shop = Shop.objects.create(slug="bench", name="压测店铺")
    if mode == "product":
        from kefu.core import tabular

        # Finding the importers imports every app's tabular.py once per process,
        # like django.setup(): process start, not import work.
        tabular.importers()
        seconds = {}
        profiler = None
        if profile is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        for kind in KINDS:
            started = time.perf_counter()
            try:
                call_command(
                    "import", kind, str(data / f"{kind}.csv"), "--shop", "bench",
                    "--progress-every", "50000",
                )  # fmt: skip
            except SystemExit as exit_info:
                raise SystemExit(f"the {kind} import rejected rows ({exit_info.code})") from None
            seconds[kind] = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))
            log(f"  profile of the product run written to {profile}")
    else:
        seconds = ceiling(shop, data)
    from kefu.commerce.models import Order, OrderItem, TrackingEvent

    rows = Order.objects.count() + OrderItem.objects.count() + TrackingEvent.objects.count()
    print(json.dumps({"seconds": seconds, "rows": rows}))


def ceiling(shop, data: Path) -> dict[str, float]:
    """executemany of already adapted tuples; ids as a fresh table assigns them."""
    from zoneinfo import ZoneInfo

    from django.db import connection, transaction
    from django.utils import timezone

    from kefu.commerce import sync
    from kefu.commerce.models import Order, OrderItem, Product, Shipment, TrackingEvent

    zone = ZoneInfo(shop.time_zone)
    now = timezone.now()

    def read(kind: str) -> list[dict[str, str]]:
        with open(data / f"{kind}.csv", newline="", encoding="utf-8") as file:
            return list(csv.DictReader(file))

    def adapt(model, rows: list[dict]) -> tuple[str, list[list]]:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        ops, quote = connection.ops, connection.ops.quote_name
        params = []
        for row in rows:
            values = []
            for field in fields:
                value = row.get(field.attname, field.get_default())
                if value is not None:
                    internal = field.get_internal_type()
                    if internal == "DateTimeField":
                        value = ops.adapt_datetimefield_value(value)
                    elif internal == "DecimalField":
                        value = ops.adapt_decimalfield_value(value)
                    elif internal == "JSONField":
                        value = field.get_db_prep_save(value, connection)
                values.append(value)
            params.append(values)
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        return sql, params

    def clean(kind: str, row: dict[str, str]) -> dict:
        return sync.prepare(kind, {k: v for k, v in row.items()}, zone)

    order_rows = [clean("orders", row) for row in read("orders")]
    order_ids = {r["order_id"]: n for n, r in enumerate(order_rows, start=1)}
    orders = [
        {**{sync._ORDER_FIELDS[k]: v for k, v in r.items() if k in sync._ORDER_FIELDS},
         "shop_id": shop.id, "external_id": r["order_id"], "updated_at": now}
        for r in order_rows
    ]  # fmt: skip
    item_rows = [clean("items", row) for row in read("items")]
    product_ids: dict[str, int] = {}
    products = []
    for r in item_rows:
        if r["product_id"] not in product_ids:
            product_ids[r["product_id"]] = len(product_ids) + 1
            products.append(
                {"shop_id": shop.id, "external_id": r["product_id"], "name": r["name"],
                 "category": r["category"], "flags": r["flags"],
                 "source_updated_at": r["updated_at"]}
            )  # fmt: skip
    items = [
        {**{sync._ITEM_FIELDS[k]: v for k, v in r.items() if k in sync._ITEM_FIELDS},
         "order_id": order_ids[r["order_id"]], "external_id": r["item_id"],
         "product_id": product_ids[r["product_id"]]}
        for r in item_rows
    ]  # fmt: skip
    event_rows = [clean("shipments", row) for row in read("shipments")]
    shipment_ids: dict[tuple, int] = {}
    shipments: list[dict] = []
    events = []
    for r in event_rows:
        key = (r["order_id"], r["courier"], r["tracking_number"])
        if key not in shipment_ids:
            shipment_ids[key] = len(shipment_ids) + 1
            shipments.append(
                {"order_id": order_ids[r["order_id"]], "courier": r["courier"],
                 "tracking_number": r["tracking_number"], "shipped_at": r["shipped_at"],
                 "delivered_at": None, "last_event_at": r["event_time"], "lost": False}
            )  # fmt: skip
        else:
            shipments[shipment_ids[key] - 1]["last_event_at"] = r["event_time"]
        events.append(
            {"shipment_id": shipment_ids[key], "occurred_at": r["event_time"],
             "status": r["event_status"], "location": r["event_location"],
             "description": r["event_description"]}
        )  # fmt: skip
    statements = {
        "orders": [adapt(Order, orders)],
        "items": [adapt(Product, products), adapt(OrderItem, items)],
        "shipments": [adapt(Shipment, shipments), adapt(TrackingEvent, events)],
    }
    seconds = {}
    for kind in KINDS:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for sql, params in statements[kind]:
                cursor.executemany(sql, params)
        seconds[kind] = time.perf_counter() - started
    return seconds


def run_worker(mode: str, database_url: str, data: Path, profile: Path | None = None) -> dict:
    started = time.perf_counter()
    extra = ["--profile", str(profile)] if profile is not None and mode == "product" else []
    result = subprocess.run(
        [sys.executable, __file__, "--worker", mode, "--database-url", database_url,
         "--data", str(data), *extra],
        check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    log(
        f"  {mode}: {sum(outcome['seconds'].values()):.2f} s "
        + ", ".join(f"{k} {v:.2f} s" for k, v in outcome["seconds"].items())
        + f" ({outcome['rows']:,} rows; process {time.perf_counter() - started:.0f} s)"
    )
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit 1 below the target ratio")
    parser.add_argument("--skip-postgresql", action="store_true")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="PREFIX",
        help="cProfile the product imports into PREFIX-<backend>.prof (slows them down)",
    )
    parser.add_argument("--worker", choices=("product", "ceiling"), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.database_url, args.data, args.profile)
        return

    base = Path(tempfile.mkdtemp(prefix="kefu-import-bench-"))
    postgres = None
    try:
        data = base / "data"
        data.mkdir()
        started = time.perf_counter()
        counts = generate(data, args.orders, args.seed)
        rows = counts["orders"] + counts["items"] + counts["shipments"]
        log(f"generated {counts} in {time.perf_counter() - started:.1f} s")
        results: dict[str, float | int | str] = {"orders": counts["orders"], "rows": rows}
        backends = ["sqlite"] + ([] if args.skip_postgresql else ["postgresql"])
        if "postgresql" in backends:
            postgres = Postgres(base)
            postgres.start()
        for backend in backends:
            log(f"{backend}:")
            rates = {}
            for mode in ("product", "ceiling"):
                if backend == "sqlite":
                    url = f"sqlite:///{base / f'{mode}.sqlite3'}"
                else:
                    assert postgres is not None
                    url = postgres.create(f"kefu_{mode}")
                profile = (
                    None
                    if args.profile is None
                    else args.profile.with_name(f"{args.profile.name}-{backend}.prof").resolve()
                )
                outcome = run_worker(mode, url, data, profile)
                if outcome["rows"] != rows:
                    raise SystemExit(f"{backend} {mode}: {outcome['rows']} rows, expected {rows}")
                rates[mode] = rows / sum(outcome["seconds"].values())
            results[f"rows_per_s_{backend}"] = round(rates["product"])
            results[f"ceiling_rows_per_s_{backend}"] = round(rates["ceiling"])
            results[f"ratio_to_ceiling_{backend}"] = round(rates["product"] / rates["ceiling"], 3)
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(results))
    if args.check:
        missed = [
            backend
            for backend in ("sqlite", "postgresql")
            if f"ratio_to_ceiling_{backend}" in results
            and float(results[f"ratio_to_ceiling_{backend}"]) < TARGET_RATIO
        ]
        if missed:
            log(f"below the target ratio {TARGET_RATIO:.3f}: {', '.join(missed)}")
            sys.exit(1)


if __name__ == "__main__":
    main()
