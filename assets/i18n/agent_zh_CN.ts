<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
    <context>
        <name>AgentWindow</name>
        <message>
            <source>&amp;Desk</source>
            <translation>工作台(&amp;D)</translation>
        </message>
        <message>
            <source>Grab selected	Space</source>
            <translation>抢选中的咨询	空格</translation>
        </message>
        <message>
            <source>Grab oldest</source>
            <translation>抢等待最久的</translation>
        </message>
        <message>
            <source>Mark first response</source>
            <translation>标记首次回复</translation>
        </message>
        <message>
            <source>Resolve</source>
            <translation>解决</translation>
        </message>
        <message>
            <source>Release</source>
            <translation>释放</translation>
        </message>
        <message>
            <source>Quit</source>
            <translation>退出</translation>
        </message>
        <message>
            <source>&amp;View</source>
            <translation>视图(&amp;V)</translation>
        </message>
        <message>
            <source>Stay on top</source>
            <translation>窗口置顶</translation>
        </message>
        <message>
            <source>Mute sound</source>
            <translation>静音</translation>
        </message>
        <message>
            <source>&amp;Language</source>
            <translation>语言(&amp;L)</translation>
        </message>
        <message>
            <source>grabdesk: new inquiry</source>
            <translation>grabdesk：新咨询</translation>
        </message>
        <message>
            <source>Grabbing…</source>
            <translation>正在抢单…</translation>
        </message>
        <message numerus="yes">
            <source>%n new inquiry you may take: %1</source>
            <translation>
                <numerusform>%n 个可接的新咨询：%1</numerusform>
            </translation>
        </message>
        <message>
            <source>grabdesk: attention</source>
            <translation>grabdesk：请注意</translation>
        </message>
        <message>
            <source>grabdesk — %1</source>
            <translation>grabdesk — %1</translation>
        </message>
        <message>
            <source>Not accepted by the broker</source>
            <translation>服务端拒绝登录</translation>
        </message>
        <message>
            <source>%1 went back to the pool: no first response in time after you took it</source>
            <translation>%1 已退回待抢池：接单后未及时首次回复</translation>
        </message>
        <message>
            <source>%1: SLA at risk</source>
            <translation>%1：SLA 即将超时</translation>
        </message>
        <message>
            <source>%1: SLA breached</source>
            <translation>%1：SLA 已超时</translation>
        </message>
        <message>
            <source>Nothing to grab right now.</source>
            <translation>目前没有可抢的咨询。</translation>
        </message>
        <message>
            <source>grabdesk — %1: %2 waiting for you</source>
            <translation>grabdesk — %1：%2 个咨询待接</translation>
        </message>
    </context>
    <context>
        <name>MineModel</name>
        <message>
            <source>Inquiry</source>
            <translation>咨询</translation>
        </message>
        <message>
            <source>Skill</source>
            <translation>技能</translation>
        </message>
        <message>
            <source>1st reply</source>
            <translation>首次回复</translation>
        </message>
        <message>
            <source>Resolve</source>
            <translation>解决</translation>
        </message>
        <message>
            <source>✓ replied</source>
            <translation>✓ 已回复</translation>
        </message>
        <message>
            <source>Customer</source>
            <translation>顾客</translation>
        </message>
    </context>
    <context>
        <name>PoolModel</name>
        <message>
            <source>Skill</source>
            <translation>技能</translation>
        </message>
        <message>
            <source>Channel</source>
            <translation>渠道</translation>
        </message>
        <message>
            <source>Lang</source>
            <translation>语言</translation>
        </message>
        <message>
            <source>Prio</source>
            <translation>优先级</translation>
        </message>
        <message>
            <source>Waiting</source>
            <translation>已等待</translation>
        </message>
        <message>
            <source>SLA</source>
            <translation>SLA</translation>
        </message>
        <message>
            <source>Inquiry</source>
            <translation>咨询</translation>
        </message>
    </context>
    <context>
        <name>_InquiryModel</name>
        <message>
            <source>Inquiry %1</source>
            <translation>咨询 %1</translation>
        </message>
        <message>
            <source>Shop: %1</source>
            <translation>店铺：%1</translation>
        </message>
        <message>
            <source>Customer: %1</source>
            <translation>客户：%1</translation>
        </message>
    </context>
    <context>
        <name>DeskActions</name>
        <message>
            <source>First response noted for %1</source>
            <translation>已记录 %1 的首次回复</translation>
        </message>
        <message>
            <source>Resolved %1</source>
            <translation>%1 已解决</translation>
        </message>
        <message>
            <source>Released %1 back to the pool</source>
            <translation>%1 已放回待抢池</translation>
        </message>
        <message>
            <source>Transferred %1 to %2</source>
            <translation>%1 已转交给 %2</translation>
        </message>
        <message>
            <source>Status not changed: %1</source>
            <translation>状态未更改：%1</translation>
        </message>
        <message>
            <source>No answer from the broker: %1</source>
            <translation>服务端未应答：%1</translation>
        </message>
        <message>
            <source>Not done: %1</source>
            <translation>未完成：%1</translation>
        </message>
        <message>
            <source>Transferred %1 to the %2 pool</source>
            <translation>已将 %1 转入 %2 池</translation>
        </message>
    </context>
    <context>
        <name>MePanel</name>
        <message>
            <source>Me</source>
            <translation>我</translation>
        </message>
        <message>
            <source>Online</source>
            <translation>在线</translation>
        </message>
        <message>
            <source>Away</source>
            <translation>离开</translation>
        </message>
        <message>
            <source>On break</source>
            <translation>休息中</translation>
        </message>
        <message>
            <source>Offline</source>
            <translation>离线</translation>
        </message>
        <message>
            <source> · sees new inquiries after %1 s</source>
            <translation> · 新咨询延迟 %1 秒可见</translation>
        </message>
        <message>
            <source>Service %1</source>
            <translation>连续服务 %1</translation>
        </message>
        <message>
            <source>%1 (unknown to the broker so far)</source>
            <translation>%1（服务端暂未识别）</translation>
        </message>
        <message>
            <source>Forced break until %1 (continuous-service limit reached)</source>
            <translation>强制休息至 %1（已达连续服务时长上限）</translation>
        </message>
        <message>
            <source>Held %1 / %2</source>
            <translation>接待中 %1 / %2</translation>
        </message>
        <message>
            <source>Today %1 / %2</source>
            <translation>今日 %1 / %2</translation>
        </message>
    </context>
    <context>
        <name>VerdictBanner</name>
        <message>
            <source>No verdict: the broker did not answer. Check My inquiries before grabbing again.</source>
            <translation>没有结果：服务端未应答。再次抢单前请先查看“我的咨询”。</translation>
        </message>
        <message>
            <source>Refused: you already hold as many inquiries as your concurrent cap allows.</source>
            <translation>被拒绝：你同时接待的咨询已达上限。</translation>
        </message>
        <message>
            <source>Refused: your daily grab quota is used up.</source>
            <translation>被拒绝：今日抢单配额已用完。</translation>
        </message>
        <message>
            <source>Refused: continuous-service limit reached — a break is due.</source>
            <translation>被拒绝：已达连续服务时长上限 — 需要休息。</translation>
        </message>
        <message>
            <source>Refused: you may not take this inquiry now.</source>
            <translation>被拒绝：你现在不能接这个咨询。</translation>
        </message>
        <message>
            <source>Refused: this inquiry is no longer open.</source>
            <translation>被拒绝：这个咨询已不在待处理中。</translation>
        </message>
        <message>
            <source>Refused: too many grabs too fast — wait a moment.</source>
            <translation>被拒绝：抢单过于频繁 — 请稍候。</translation>
        </message>
        <message>
            <source>Refused: too many requests waiting — wait a moment.</source>
            <translation>被拒绝：等待处理的请求过多 — 请稍候。</translation>
        </message>
        <message>
            <source>Refused: the broker does not accept this agent.</source>
            <translation>被拒绝：服务端不接受该客服身份。</translation>
        </message>
        <message>
            <source>Space grabs the selected inquiry, Ctrl+G the oldest.</source>
            <translation>空格抢选中的咨询，Ctrl+G 抢等待最久的。</translation>
        </message>
        <message>
            <source>✔ Won %1 — it is in My inquiries</source>
            <translation>✔ 抢到 %1 — 已在“我的咨询”中</translation>
        </message>
        <message>
            <source>Refused (%1).</source>
            <translation>被拒绝（%1）。</translation>
        </message>
        <message>
            <source>The broker does not accept agent %1: %2</source>
            <translation>服务端不接受客服 %1：%2</translation>
        </message>
        <message>
            <source>✘ Lost %1 — %2 took it first</source>
            <translation>✘ 没抢到 %1 — 已被 %2 抢先接走</translation>
        </message>
    </context>
    <context>
        <name>PoolPanel</name>
        <message>
            <source>Pool: inquiries I may take</source>
            <translation>待抢池：我可接的咨询</translation>
        </message>
        <message>
            <source>Grab (Space)</source>
            <translation>抢单（空格）</translation>
        </message>
        <message>
            <source>Grab the selected inquiry, or the oldest if none is selected</source>
            <translation>抢选中的咨询；未选中时抢等待最久的</translation>
        </message>
        <message>
            <source>Oldest (Ctrl+G)</source>
            <translation>最久（Ctrl+G）</translation>
        </message>
        <message>
            <source>You are %1: go online to grab.</source>
            <translation>你当前为%1：上线后才能抢单。</translation>
        </message>
    </context>
    <context>
        <name>MinePanel</name>
        <message>
            <source>My inquiries</source>
            <translation>我的咨询</translation>
        </message>
        <message>
            <source>1st reply</source>
            <translation>首次回复</translation>
        </message>
        <message>
            <source>Mark the first response as sent (Ctrl+R)</source>
            <translation>标记已首次回复（Ctrl+R）</translation>
        </message>
        <message>
            <source>Customer satisfaction, if the customer gave one</source>
            <translation>客户满意度（如客户已评价）</translation>
        </message>
        <message>
            <source>Resolve</source>
            <translation>解决</translation>
        </message>
        <message>
            <source>Resolve with the satisfaction chosen on the left (Ctrl+E)</source>
            <translation>按左侧所选满意度标记为已解决（Ctrl+E）</translation>
        </message>
        <message>
            <source>Release</source>
            <translation>释放</translation>
        </message>
        <message>
            <source>Put it back in the pool; the customer keeps their wait (Ctrl+L)</source>
            <translation>放回待抢池；客户的等待时间保留（Ctrl+L）</translation>
        </message>
        <message>
            <source>Transfer ▾</source>
            <translation>转交 ▾</translation>
        </message>
        <message>
            <source>Hand it to an online colleague</source>
            <translation>转交给在线同事</translation>
        </message>
        <message>
            <source>No online colleague can take it</source>
            <translation>没有可接手的在线同事</translation>
        </message>
        <message>
            <source>To another skill's pool…</source>
            <translation>转入其他技能池…</translation>
        </message>
    </context>
    <context>
        <name>PoolTransferDialog</name>
        <message>
            <source>Transfer to another pool</source>
            <translation>转入其他池</translation>
        </message>
        <message>
            <source>Pool:</source>
            <translation>池：</translation>
        </message>
        <message>
            <source>Note for the next agent:</source>
            <translation>给下一位客服的备注：</translation>
        </message>
        <message>
            <source>Transfer</source>
            <translation>转接</translation>
        </message>
    </context>
    <context>
        <name>CustomerPanel</name>
        <message>
            <source>Customer</source>
            <translation>顾客</translation>
        </message>
        <message>
            <source>When</source>
            <translation>时间</translation>
        </message>
        <message>
            <source>Skill</source>
            <translation>技能</translation>
        </message>
        <message>
            <source>Outcome</source>
            <translation>结果</translation>
        </message>
        <message>
            <source>Served by</source>
            <translation>接待客服</translation>
        </message>
        <message>
            <source>Satisfaction</source>
            <translation>满意度</translation>
        </message>
        <message>
            <source>Note: %1</source>
            <translation>备注：%1</translation>
        </message>
        <message>
            <source>Select one of my inquiries to see its customer's earlier ones</source>
            <translation>选择我的一个咨询，查看该顾客以往的咨询</translation>
        </message>
        <message>
            <source>This inquiry names no customer</source>
            <translation>此咨询未注明顾客</translation>
        </message>
        <message>
            <source>Asking the broker…</source>
            <translation>正在询问调度服务…</translation>
        </message>
        <message>
            <source>No answer from the broker: %1</source>
            <translation>调度服务未应答：%1</translation>
        </message>
        <message>
            <source>%1: no earlier inquiries</source>
            <translation>%1：以往没有咨询</translation>
        </message>
        <message>
            <source>%1: %2 earlier inquiries</source>
            <translation>%1：以往 %2 个咨询</translation>
        </message>
    </context>
    <context>
        <name>TranscriptPanel</name>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>Conversation</source>
            <translation>对话记录</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>Handed over by the robot: %1, for %2</source>
            <translation>机器人转人工：%1，转给 %2</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>Select an inquiry to see what the customer wrote</source>
            <translation>选择一条咨询以查看客户的留言</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>Asking the broker…</source>
            <translation>正在询问服务器…</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>The customer wrote nothing the broker kept</source>
            <translation>服务器未保存该客户的留言</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>No answer from the broker: %1</source>
            <translation>服务器无应答：%1</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>… %1 earlier lines not kept</source>
            <translation>… 未保留更早的 %1 行</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>Customer</source>
            <translation>客户</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>Robot</source>
            <translation>机器人</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>Agent</source>
            <translation>客服</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>not sure what the customer means</source>
            <translation>无法确定客户的意图</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>the customer asked for a person</source>
            <translation>客户要求转人工</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>complaint</source>
            <translation>投诉</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>the robot's answer did not help</source>
            <translation>机器人的回答没有帮助</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>a pre-sales question</source>
            <translation>售前问题</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>outside what the robot answers</source>
            <translation>超出机器人的回答范围</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>a message the robot could not read</source>
            <translation>机器人无法读懂的消息</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>order not found</source>
            <translation>未找到订单</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>the order lookup failed</source>
            <translation>订单查询失败</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>the robot did not answer in time</source>
            <translation>机器人未及时回答</translation>
        </message>
        <message>
            <location filename="../../supervisor/agentwin/transcript.py" />
            <source>no robot to answer</source>
            <translation>没有可用的机器人</translation>
        </message>
    </context>
</TS>
