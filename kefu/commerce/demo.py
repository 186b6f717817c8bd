"""The demo shop's products and orders (idempotent): one order in each state
for the demo customers, with payments, shipments and tracking, so the order
panel, the policy engine and the work queues have something to show."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kefu.customers.models import CustomerIdentity

from .models import (
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    Product,
    RiskEntry,
    RiskKind,
    Shipment,
    TrackingEvent,
)

PRODUCTS = [
    ("P-SHEET-4", "纯棉四件套 1.8m", "床品", [], 365, "299.00"),
    ("P-QUILT-S", "夏季凉被", "床品", [], 365, "159.00"),
    ("P-PILLOW-C", "定制刺绣枕套（刻名）", "床品", ["custom_made"], None, "89.00"),
    ("P-TOWEL", "长绒棉浴巾", "毛巾浴巾", ["hygiene"], 180, "69.00"),
    ("P-TEA", "助眠花草茶", "食品", ["food"], 30, "49.00"),
]

# (number, buyer, status, days ago ordered, paid?, shipped days ago, signed days ago, lines)
ORDERS = [
    ("TM20261101001", "tb_li_2025", OrderStatus.DELIVERED, 6, True, 5, 3, [("P-SHEET-4", 1)]),
    ("TM20261101002", "tb_li_2025", OrderStatus.SHIPPED, 3, True, 2, None, [("P-QUILT-S", 2)]),
    ("TM20261101003", "tb_zhang_vip", OrderStatus.PAID, 4, True, None, None, [("P-TOWEL", 2)]),
    (
        "TM20261101004",
        "tb_zhang_vip",
        OrderStatus.DELIVERED,
        12,
        True,
        11,
        9,
        [("P-PILLOW-C", 2), ("P-TEA", 1)],
    ),
    (
        "TM20261101005",
        "tb_wang_new",
        OrderStatus.PENDING_PAYMENT,
        0,
        False,
        None,
        None,
        [("P-SHEET-4", 1)],
    ),
    # Placed by another account: the identity rule refuses it to 王同学.
    ("TM20261101006", "tb_wang_mom", OrderStatus.PAID, 1, True, None, None, [("P-QUILT-S", 1)]),
]

ADDRESSES = {
    "tb_li_2025": ("李先生", "13812345678", "浙江省杭州市西湖区文三路 100 号 3 幢 201 室"),
    "tb_zhang_vip": ("张女士", "13987654321", "上海市浦东新区世纪大道 88 号 1801 室"),
    "tb_wang_new": ("王同学", "13700001111", "北京市海淀区学院路 37 号 6 号楼"),
    "tb_wang_mom": ("王妈妈", "13600002222", "河北省石家庄市长安区中山东路 1 号"),
}


def ago(now: dt.datetime, days: int) -> dt.datetime:
    return now - dt.timedelta(days=days, hours=2)


def load_commerce_demo(shop, now: dt.datetime | None = None) -> int:
    """Create what is missing; returns the number of orders created."""
    now = now or timezone.now()
    created = 0
    with transaction.atomic():
        products = {}
        prices = {external_id: Decimal(price) for external_id, *_, price in PRODUCTS}
        for external_id, name, category, flags, cycle, price in PRODUCTS:
            products[external_id], _ = Product.objects.get_or_create(
                shop=shop,
                external_id=external_id,
                defaults={
                    "name": name,
                    "category": category,
                    "flags": flags,
                    "usage_cycle_days": cycle,
                    "price": Decimal(price),
                },
            )
        customers = dict(
            CustomerIdentity.objects.filter(shop=shop).values_list("value", "customer_id")
        )
        for number, buyer, status, ordered, paid, shipped, signed, lines in ORDERS:
            if Order.objects.filter(shop=shop, external_id=number).exists():
                continue
            total = sum((prices[p] * q for p, q in lines), Decimal(0))
            name, phone, address = ADDRESSES[buyer]
            order = Order.objects.create(
                shop=shop,
                external_id=number,
                customer_id=customers.get(buyer),
                buyer_account=buyer,
                status=status,
                total=total,
                paid_amount=total if paid else Decimal(0),
                ordered_at=ago(now, ordered),
                paid_at=ago(now, ordered) + dt.timedelta(minutes=5) if paid else None,
                shipped_at=ago(now, shipped) if shipped is not None else None,
                delivered_at=ago(now, signed) if signed is not None else None,
                receiver_name=name,
                receiver_phone=phone,
                receiver_address=address,
                source_updated_at=now,
            )
            for position, (product_id, quantity) in enumerate(lines, 1):
                product = products[product_id]
                OrderItem.objects.create(
                    order=order,
                    external_id=f"{number}-{position}",
                    product=product,
                    name=product.name,
                    category=product.category,
                    flags=product.flags,
                    quantity=quantity,
                    unit_price=prices[product_id],
                    paid_amount=prices[product_id] * quantity if paid else Decimal(0),
                    source_updated_at=now,
                )
            if paid:
                Payment.objects.create(
                    order=order,
                    external_id=f"PAY-{number}",
                    method="支付宝",
                    amount=total,
                    status=PaymentStatus.PAID,
                    paid_at=order.paid_at,
                    source_updated_at=now,
                )
            if shipped is not None:
                _shipment(
                    order, ago(now, shipped), ago(now, signed) if signed is not None else None
                )
            created += 1
        RiskEntry.objects.get_or_create(
            shop=shop,
            buyer_account="tb_pro_reviewer",
            kind=RiskKind.PROFESSIONAL_REVIEWER,
            defaults={"note": "多次以差评要挟索要赔偿"},
        )
    return created


def _shipment(order: Order, shipped_at: dt.datetime, signed_at: dt.datetime | None) -> None:
    shipment = Shipment.objects.create(
        order=order,
        courier="顺丰速运",
        tracking_number=f"SF{order.external_id[-7:]}88",
        shipped_at=shipped_at,
        delivered_at=signed_at,
    )
    steps = [
        (shipped_at, "collected", "杭州", "快件已揽收"),
        (shipped_at + dt.timedelta(hours=8), "in_transit", "杭州转运中心", "快件已发往目的地"),
    ]
    if signed_at is not None:
        steps += [
            (signed_at - dt.timedelta(hours=4), "out_for_delivery", "目的地网点", "快递员正在派件"),
            (signed_at, "signed", "目的地", "已签收，签收人：本人"),
        ]
    for at, status, location, description in steps:
        TrackingEvent.objects.create(
            shipment=shipment,
            occurred_at=at,
            status=status,
            location=location,
            description=description,
        )
    shipment.last_event_at = steps[-1][0]
    shipment.save(update_fields=["last_event_at"])
