from fasterapi import App

app = App(port=8000)

@app.get("/")
def hello(req, res):
    return {"message": "Hello, World!"}

@app.get("/users/{user_id}")
async def get_user(req, res):
    user_id = req.path_params["user_id"]
    # Your async database call here
    return {"id": user_id, "name": "John Doe"}

if __name__ == "__main__":
    app.run()
