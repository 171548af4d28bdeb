"""The shape of a campaign file: which buyers see a lead, how it is sold, what is checked first."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BuyerRef(Model):
    """A buyer in a campaign, by its id (the ``buyer:`` of its file in integrations/buyers)."""

    buyer: str
    priority: Annotated[int, Field(ge=1)] | None = Field(
        None, description="1 is first; ties in an auction and waterfall order use it"
    )
    price: str | None = Field(None, description="fixed price for this campaign (waterfall)")
    require_valid: list[str] | None = Field(
        None, description="phone and email fields this buyer must get valid, e.g. [lead.phone]"
    )


BuyerEntry = BuyerRef | str

Check = Literal["critical", "warn", "off"]


class SuppressionSpec(Model):
    file: str | None = Field(None, description="text file of phone numbers and emails")
    store: bool = Field(False, description="also the list kept in leadpost's store")
    level: Check = "critical"

    @model_validator(mode="after")
    def _some_list(self) -> SuppressionSpec:
        if self.file is None and not self.store:
            raise ValueError("name a suppression 'file', or write 'store: true' (or both)")
        return self


class ServiceCheck(Model):
    """An external verification service described as an integration file of its own."""

    integration: str = Field(description="buyer id of the verification service's file")
    level: Check = "critical"


class ValidationSpec(Model):
    """The pre-sale checks. Each one runs only when named: a check left out is off, so naming
    one check never switches on another."""

    phone: Check = Field("off", description="valid US phone number")
    email: Check = Field("off", description="email address syntax")
    disposable_email: Check = Field("off", description="throwaway email domains")
    consent: Check = Field(
        "off", description="TCPA yes, consent time, TrustedForm URL at most 90 days old"
    )
    suppression: SuppressionSpec | None = None
    services: list[ServiceCheck] = Field(default_factory=list)


class CampaignSpec(Model):
    """One campaign file."""

    campaign: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: str
    description: str | None = None
    mode: Literal["direct", "waterfall", "auction"]
    buyers: list[BuyerEntry]
    order: Literal["priority", "price"] = Field(
        "priority", description="waterfall order: by priority, or by fixed price (highest first)"
    )
    ping_deadline: str = "100ms"
    total_deadline: str = "2s"
    floor: str | None = Field(None, description="lowest bid considered, e.g. 5.00")
    max_post_attempts: Annotated[int, Field(ge=1, le=50)] = 3
    fallback: list[BuyerEntry] = Field(
        default_factory=list, description="waterfall of buyers for leads nobody bought"
    )
    when_overloaded: Literal["refuse", "queue"] = Field(
        "refuse",
        description="leadpost serve, when new auctions would miss their deadline: refuse the "
        "lead (503 with Retry-After) or queue it and sell it by waterfall once the load drops",
    )
    validation: ValidationSpec | None = None
    require_valid: list[str] | None = Field(
        None,
        description="phone and email fields every buyer of this campaign must get valid; a "
        "lead without them is offered to no buyer",
    )

    @field_validator("buyers")
    @classmethod
    def _some_buyers(cls, v: list[Any]) -> list[Any]:
        if not v:
            raise ValueError("a campaign needs at least one buyer")
        return v

    @model_validator(mode="after")
    def _direct_has_one(self) -> CampaignSpec:
        if self.mode == "direct" and len(self.buyers) != 1:
            raise ValueError("a direct campaign has exactly one contracted buyer")
        return self
