"""Drives HubSpot's official Python client (hubspot-api-client, from PyPI) against hubspot-sim.

Nothing is changed in the client but the host: if the simulator differs from HubSpot in a path,
a status code, a paging cursor or a body shape, the generated client fails here.

Usage: SIM_URL=http://127.0.0.1:8089 python official_client.py
"""

import json
import os
import sys
import urllib.request

from hubspot import HubSpot
from hubspot.crm.associations.v4 import AssociationSpec
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException, NotFoundException
from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyInput

SIM = os.environ["SIM_URL"].rstrip("/")
ACME_INC = 24682001


def sim_token() -> str:
    """A token for Acme Inc without the consent flow (the simulator's test control)."""
    body = json.dumps(
        {
            "portal_id": ACME_INC,
            "scopes": [
                "oauth",
                "crm.objects.contacts.read",
                "crm.objects.contacts.write",
                "crm.objects.companies.read",
                "crm.objects.companies.write",
            ],
        }
    ).encode()
    request = urllib.request.Request(
        f"{SIM}/_sim/tokens", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)["access_token"]


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)
    print(f"ok - {what}")


def main() -> int:
    client = HubSpot(access_token=sim_token(), host=SIM)
    contacts = client.crm.contacts

    created = contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"}
        )
    )
    check(created.id.isdigit() and created.properties["email"] == "ada@example.com", "create")

    fetched = contacts.basic_api.get_by_id(created.id, properties=["email", "firstname"])
    check(fetched.properties["firstname"] == "Ada", "get by id")
    by_email = contacts.basic_api.get_by_id("ada@example.com", id_property="email")
    check(by_email.id == created.id, "get by idProperty=email")

    updated = contacts.basic_api.update(
        created.id, SimplePublicObjectInput(properties={"lastname": "Byron"})
    )
    check(updated.properties["lastname"] == "Byron", "update")

    for n in range(25):
        contacts.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={"email": f"person{n}@example.com", "firstname": f"P{n}"}
            )
        )
    seen, after, pages = [], None, 0
    while True:
        page = contacts.basic_api.get_page(limit=10, after=after)
        seen.extend(r.id for r in page.results)
        pages += 1
        if page.paging is None or page.paging.next is None:
            break
        after = page.paging.next.after
    check(len(seen) == 26 and len(set(seen)) == 26 and pages == 3, "list with paging")
    check(len(contacts.get_all()) == 26, "get_all pages through everything")

    found = contacts.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(
                    filters=[Filter(property_name="firstname", operator="EQ", value="Ada")]
                )
            ],
            properties=["email"],
            limit=5,
        )
    )
    check(found.total == 1 and found.results[0].id == created.id, "search")

    upserted = contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                SimplePublicObjectBatchInputUpsert(
                    id="ada@example.com", id_property="email", properties={"phone": "555-0100"}
                ),
                SimplePublicObjectBatchInputUpsert(
                    id="grace@example.com", id_property="email", properties={"firstname": "Grace"}
                ),
            ]
        )
    )
    news = sorted(bool(r.new) for r in upserted.results)
    check(len(upserted.results) == 2 and news == [False, True], "batch upsert")

    company = client.crm.companies.basic_api.create(
        CompanyInput(properties={"name": "Analytical Engines", "domain": "engines.example"})
    )
    client.crm.associations.v4.basic_api.create(
        "contacts",
        created.id,
        "companies",
        company.id,
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=279)],
    )
    associated = client.crm.associations.v4.basic_api.get_page("contacts", created.id, "companies")
    check(
        [r.to_object_id for r in associated.results] == [int(company.id)]
        or [str(r.to_object_id) for r in associated.results] == [company.id],
        "associations v4 create and list",
    )

    contacts.basic_api.archive(created.id)
    try:
        contacts.basic_api.get_by_id(created.id)
        check(False, "archived contact is gone")
    except NotFoundException:
        check(True, "archive")
    except ApiException as error:
        check(error.status == 404, "archive")

    print("official client: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
