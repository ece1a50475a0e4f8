from tests.factories import World, auth


def test_a_request_can_be_submitted_and_read_back_with_its_access_code(client, runtime):
    world = World(client, runtime)
    created = world.applicant()
    assert created["status"] == "pending"
    response = client.get(f"/api/v1/requests/{created['id']}", headers=auth(created["access_code"]))
    assert response.status_code == 200, response.text
    assert response.json()["entry"] == created["entry"]
