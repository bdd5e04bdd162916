"""The results database: signing keys, products, submissions and what each one recorded.

The tables mirror the bundle: a submission holds one run's report, its clouds, their
capability results, their test outcomes and findings. Every change to these tables comes with
an Alembic revision in ``migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class SigningKey(Base):
    """A vendor's SSH public key: how the service knows who submitted."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(80), unique=True)
    public_key: Mapped[str] = mapped_column(Text)
    vendor: Mapped[str] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    submissions: Mapped[list[Submission]] = relationship(back_populates="key")

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class Product(Base):
    """What a vendor declared it tested (``product.yaml``'s vendor and product)."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("vendor", "name", name="uq_products_vendor_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(100), nullable=True)

    submissions: Mapped[list[Submission]] = relationship(back_populates="product")


class Submission(Base):
    """One accepted bundle: one run, signed by one key."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The sha256 of the signed MANIFEST names the bundle's content: a second upload is a replay.
    manifest_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    run_id: Mapped[str] = mapped_column(String(100), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    key_id: Mapped[int] = mapped_column(ForeignKey("signing_keys.id"))
    product_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    run_started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    run_finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    tool_version: Mapped[str | None] = mapped_column(String(50), nullable=True)
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)  # None: every part
    guidelines: Mapped[list[str]] = mapped_column(JSON)
    declaration: Mapped[dict] = mapped_column(JSON)
    manifest: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(Integer)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verified_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Set when the signing key is revoked: the submission stays, marked, and stops counting.
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    product: Mapped[Product] = relationship(back_populates="submissions")
    key: Mapped[SigningKey] = relationship(back_populates="submissions")
    clouds: Mapped[list[CloudResult]] = relationship(
        back_populates="submission", cascade="all, delete-orphan"
    )


class CloudResult(Base):
    """One cloud of a submission and its recomputed verdict."""

    __tablename__ = "cloud_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    cloud: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # the provider: openstack / aws
    reference: Mapped[bool] = mapped_column(Boolean)  # the embedded reference cloud
    verdict: Mapped[str] = mapped_column(String(40))
    required_passed: Mapped[int] = mapped_column(Integer)
    required_total: Mapped[int] = mapped_column(Integer)
    advisory_passed: Mapped[int] = mapped_column(Integer)
    advisory_total: Mapped[int] = mapped_column(Integer)

    submission: Mapped[Submission] = relationship(back_populates="clouds")
    capabilities: Mapped[list[CapabilityResult]] = relationship(
        back_populates="cloud_result", cascade="all, delete-orphan"
    )
    tests: Mapped[list[TestResult]] = relationship(
        back_populates="cloud_result", cascade="all, delete-orphan"
    )
    findings: Mapped[list[Finding]] = relationship(
        back_populates="cloud_result", cascade="all, delete-orphan"
    )


class CapabilityResult(Base):
    __tablename__ = "capability_results"
    __table_args__ = (Index("ix_capability_results_name", "guideline", "capability"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cloud_result_id: Mapped[int] = mapped_column(
        ForeignKey("cloud_results.id", ondelete="CASCADE"), index=True
    )
    guideline: Mapped[str] = mapped_column(String(100))
    capability: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    counted: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[str] = mapped_column(String(40))

    cloud_result: Mapped[CloudResult] = relationship(back_populates="capabilities")


class TestResult(Base):
    __tablename__ = "test_results"
    __test__ = False  # not a pytest test class

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cloud_result_id: Mapped[int] = mapped_column(
        ForeignKey("cloud_results.id", ondelete="CASCADE"), index=True
    )
    guideline: Mapped[str] = mapped_column(String(100))
    capability: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    idempotent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    result: Mapped[str] = mapped_column(String(40))
    flagged: Mapped[bool] = mapped_column(Boolean)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")

    cloud_result: Mapped[CloudResult] = relationship(back_populates="tests")


class Finding(Base):
    """A fact a test observed (login account, public-address pattern, boot time)."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cloud_result_id: Mapped[int] = mapped_column(
        ForeignKey("cloud_results.id", ondelete="CASCADE"), index=True
    )
    test: Mapped[str] = mapped_column(String(500))
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[object] = mapped_column(JSON)

    cloud_result: Mapped[CloudResult] = relationship(back_populates="findings")
