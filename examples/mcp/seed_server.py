from fasterapi.mcp import MCPServer

server = MCPServer(name="My Tools", version="1.0.0")

@server.tool("calculate")
def calculate(operation: str, a: float, b: float) -> float:
    """Perform basic calculations"""
    ops = {"add": a + b, "multiply": a * b, "subtract": a - b}
    return ops[operation]

@server.resource("config://settings")
def get_settings() -> dict:
    """Get application settings"""
    return {"max_retries": 3, "timeout": 30}

server.run(transport="stdio")
