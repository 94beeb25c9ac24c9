def test_login_and_home(client, auth):
    response = auth.login()
    assert response.status_code == 302, response.data
    page = client.get("/t/jituan/")
    assert page.status_code == 200
    assert "华信控股集团" in page.get_data(as_text=True)
