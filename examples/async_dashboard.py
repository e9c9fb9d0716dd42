"""The seed README's Async/Await example, verbatim (run: python examples/async_dashboard.py)."""
# ruff: noqa  -- the code below is kept exactly as the README shows it

from fasterapi import App, when_all
import asyncio

app = App()

async def fetch_user(user_id):
    await asyncio.sleep(0.01)  # Simulate DB call
    return {"id": user_id, "name": f"User {user_id}"}

async def fetch_posts(user_id):
    await asyncio.sleep(0.01)  # Simulate DB call
    return [{"id": 1, "title": "Post 1"}]

@app.get("/users/{user_id}/dashboard")
async def get_dashboard(req, res):
    user_id = req.path_params["user_id"]
    
    # Parallel execution
    user, posts = await asyncio.gather(
        fetch_user(user_id),
        fetch_posts(user_id)
    )
    
    return {
        "user": user,
        "posts": posts
    }

if __name__ == "__main__":
    app.run()
